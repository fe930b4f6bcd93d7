//! The [`Detector`]: runs the rules over batches of normalized events and turns matches
//! into alerts with Panther's semantics: dedup string per rule, tumbling
//! `DedupPeriodMinutes` windows, `Threshold`, dynamic severity, `CreateAlert: false`
//! signals, and rule errors grouped per rule and exception type.
//!
//! Window state lives in the store (`AlertStore::record_match`, a conditional update),
//! so two processes never open two alerts for one dedup key and window.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use caracal_core::event::RuleMatch;
use caracal_core::{Alert, AlertKind, Severity};
use caracal_python::RuleOutcome;
use caracal_store::{DedupOutcome, MatchKey, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tokio::runtime::Handle;

use crate::destinations::Router;
use crate::error::{Error, Result};
use crate::events::{AlertOpened, BatchEvaluated, MatchesCounted, RuleRaised};
use crate::posture::{StoreKv, StoreLookup};
use crate::rules::{RuleMeta, Rules};
use crate::state;

/// What the detector did so far (across batches), for printing and metrics.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    /// Events the rules ran on.
    pub events: u64,
    /// Rule matches (signals included).
    pub matches: u64,
    /// Matches of `CreateAlert: false` rules.
    pub signals: u64,
    /// `rule()` raised or timed out.
    pub rule_errors: u64,
    /// Alerts opened (threshold reached in a new window), by id.
    pub opened: Vec<String>,
    /// Alerts that existed and took more events, by id (each once).
    pub updated: Vec<String>,
    /// Matches still under their rule's threshold.
    pub below_threshold: u64,
}

/// Rules plus alert state: feed it batches with [`Detector::run_batch`].
pub struct Detector {
    rules: Arc<Rules>,
    store: Arc<dyn Store>,
    router: Arc<Router>,
    runtime: Handle,
    summary: Mutex<Summary>,
}

/// The posture lookups the interpreter answers from: [`Detector::attach_store`] sets them
/// for the whole process (the interpreter is shared), so every detector clears this one,
/// whichever attached it last, before each batch.
static ACTIVE_LOOKUP: Mutex<Option<Arc<StoreLookup>>> = Mutex::new(None);

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector").field("rules", &self.rules).finish_non_exhaustive()
    }
}

impl Detector {
    /// A detector over compiled `rules`, keeping alerts in `store` and routing them by
    /// `router`. Must be created inside a tokio runtime.
    pub fn new(rules: Arc<Rules>, store: Arc<dyn Store>, router: Arc<Router>) -> Self {
        Self { rules, store, router, runtime: Handle::current(), summary: Mutex::default() }
    }

    /// Answers the rules' posture lookups and caching helpers from the store. The
    /// interpreter is shared, so this applies to every engine of the process. Answers
    /// are cached and the cache is emptied as each batch starts; with batches evaluated
    /// at once (worker lanes) an answer may serve the batch beside its own, so it is at
    /// most about two batches' evaluation old.
    pub fn attach_store(&self) -> Result<()> {
        let engine = &self.rules.engine;
        let lookup = Arc::new(StoreLookup::new(self.store.clone()));
        engine
            .set_posture(Some(lookup.clone()))
            .map_err(Error::python("attaching posture lookups"))?;
        *ACTIVE_LOOKUP.lock().unwrap_or_else(|p| p.into_inner()) = Some(lookup);
        engine
            .set_kv_store(Arc::new(StoreKv::new(self.store.clone())))
            .map_err(Error::python("attaching the rule state store"))
    }

    /// Whether rules run in worker processes, so that batches evaluated on several
    /// threads at once run in parallel (in-process, they would share one interpreter).
    pub fn is_isolated(&self) -> bool {
        self.rules.engine.is_isolated()
    }

    /// The compiled rules.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The totals so far.
    pub fn summary(&self) -> Summary {
        self.summary.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The totals since the last call (or since the start), and starts counting afresh.
    pub fn take_summary(&self) -> Summary {
        std::mem::take(&mut *self.summary.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Runs every rule registered for each event's `p_log_type` over `json_array` (a
    /// JSON array of normalized events, `events[i]` describing its i-th item), then
    /// counts the matches into their alert windows: one store write per rule, dedup
    /// string and window in the batch, however many events matched. Returns every match
    /// with the alert it counted toward, for the lake's match tables. Blocking: holds the
    /// GIL, then waits on the store; call it from a blocking section. A rule that raises
    /// costs only its own verdict (a RULE_ERROR alert).
    pub fn run_batch(&self, json_array: &str, events: &[EventMeta]) -> Result<Vec<RuleMatch>> {
        let outcomes = self.evaluate(json_array)?;
        self.decide(&outcomes, events)
    }

    /// The first half of [`Detector::run_batch`]: every rule over `json_array`, no alert
    /// state touched. Batches may be evaluated concurrently (each on a worker process of
    /// its own when the engine is isolated), as long as [`Detector::decide`] then takes
    /// their outcomes in the batches' order.
    pub fn evaluate(&self, json_array: &str) -> Result<Vec<RuleOutcome>> {
        if let Some(lookup) = &*ACTIVE_LOOKUP.lock().unwrap_or_else(|p| p.into_inner()) {
            lookup.clear();
        }
        self.rules.engine.evaluate_events_json(json_array).map_err(Error::python("running rules"))
    }

    /// The second half of [`Detector::run_batch`]: counts a batch's `outcomes` (from
    /// [`Detector::evaluate`]) into their alert windows. Blocking: waits on the store.
    pub fn decide(&self, outcomes: &[RuleOutcome], events: &[EventMeta]) -> Result<Vec<RuleMatch>> {
        let mut summary = Summary { events: events.len() as u64, ..Summary::default() };
        let mut groups: Vec<Group<'_>> = Vec::new();
        let mut open: HashMap<(usize, AlertKind, String), usize> = HashMap::new();
        for outcome in outcomes {
            let Some(meta) = self.rules.meta.get(outcome.rule) else { continue };
            let event = events.get(outcome.event);
            let time = event.map_or_else(Utc::now, |e| e.time);
            let log_type = event.map(|e| e.log_type.clone());
            let (kind, dedup, severity) = classify(meta, outcome, &mut summary);
            let key = (outcome.rule, kind, dedup);
            // A later event past the group's window starts a group of its own.
            let window =
                chrono::Duration::from_std(meta.dedup_period).unwrap_or(chrono::Duration::MAX);
            let current = open.get(&key).copied().filter(|&i| {
                groups[i].first_time.checked_add_signed(window).is_none_or(|end| time < end)
            });
            let i = match current {
                Some(i) => i,
                None => {
                    groups.push(Group {
                        meta,
                        outcome,
                        kind,
                        dedup: key.2.clone(),
                        severity,
                        count: 0,
                        first_time: time,
                        last_time: time,
                        log_types: Vec::new(),
                        members: Vec::new(),
                    });
                    open.insert(key, groups.len() - 1);
                    groups.len() - 1
                }
            };
            let group = &mut groups[i];
            group.count += 1;
            group.members.push((outcome.event, severity, outcome.error.as_deref()));
            group.first_time = group.first_time.min(time);
            group.last_time = group.last_time.max(time);
            group.severity = group.severity.max(severity);
            if let Some(t) = log_type
                && !group.log_types.contains(&t)
            {
                group.log_types.push(t);
            }
        }
        caracal_telemetry::emit(BatchEvaluated {
            events: events.len() as u64,
            outcomes: outcomes.len() as u64,
        });
        let mut matches = Vec::with_capacity(outcomes.len());
        for group in &groups {
            caracal_telemetry::emit(MatchesCounted {
                rule_id: &group.meta.id,
                kind: group.kind,
                count: group.count,
            });
            let (alert_id, created) = self.runtime.block_on(self.record(group, &mut summary))?;
            matches.extend(group.members.iter().map(|&(event, severity, error)| RuleMatch {
                event,
                rule_id: group.meta.id.clone(),
                kind: group.kind,
                alert_id: alert_id.clone(),
                alert_created_at: created,
                severity,
                error: error.map(str::to_owned),
            }));
        }
        let mut total = self.summary.lock().unwrap_or_else(|p| p.into_inner());
        merge(&mut total, summary);
        Ok(matches)
    }

    /// Counts `group` into its window and opens or updates its alert. Returns the
    /// window's alert id and, once the alert exists, when it was created.
    async fn record(
        &self,
        group: &Group<'_>,
        summary: &mut Summary,
    ) -> Result<(String, Option<DateTime<Utc>>)> {
        let (meta, kind) = (group.meta, group.kind);
        // Errors alert at once whatever the rule's threshold; signals count like alerts.
        let threshold = if kind == AlertKind::RuleError { 1 } else { meta.threshold };
        let window_rule = match kind {
            AlertKind::RuleError => format!("{}:RULE_ERROR", meta.id),
            _ => meta.id.clone(),
        };
        let key = MatchKey {
            rule_id: &window_rule,
            dedup: &group.dedup,
            event_time: group.first_time,
            window: meta.dedup_period,
            threshold,
            count: group.count,
        };
        let counted = self
            .store
            .alerts()
            .record_match(&key)
            .await
            .map_err(Error::store(format!("counting matches of {}", meta.id)))?;
        if counted.event_count < threshold {
            summary.below_threshold += group.count;
            return Ok((counted.alert_id, None));
        }
        let log_types: Vec<String> = group.log_types.iter().map(|t| t.to_string()).collect();
        let store = self.store.as_ref();
        // The write that crossed the threshold creates the alert. Another process may
        // count past it before that alert is stored: then whoever finds it missing
        // creates it, and the loser of the race adds to it instead.
        let mut create = counted.threshold_reached;
        for _ in 0..5 {
            if create {
                let mut alert = self.new_alert(group, &counted, log_types.clone());
                if state::create(store, &mut alert).await? {
                    caracal_telemetry::emit(AlertOpened {
                        alert_id: &alert.id,
                        detection_id: &meta.id,
                        resource_id: None,
                        kind,
                        severity: alert.severity,
                    });
                    let created = alert.created_at;
                    summary.opened.push(alert.id);
                    return Ok((counted.alert_id, created));
                }
            }
            let updated = state::modify(store, &counted.alert_id, |alert| {
                alert.event_count = alert.event_count.max(counted.event_count);
                alert.last_seen = alert.last_seen.max(group.last_time);
                alert.first_seen = alert.first_seen.min(group.first_time);
                alert.severity = alert.severity.max(group.severity);
                for t in &log_types {
                    if !alert.log_types.contains(t) {
                        alert.log_types.push(t.clone());
                    }
                }
            })
            .await?;
            if let Some(alert) = updated {
                let created = alert.created_at;
                if !summary.updated.contains(&alert.id) && !summary.opened.contains(&alert.id) {
                    summary.updated.push(alert.id);
                }
                return Ok((counted.alert_id, created));
            }
            create = true;
        }
        Err(Error::Invalid(format!("alert {} could not be stored", counted.alert_id)))
    }

    /// A new alert for `group`, whose window write `counted` reached the threshold.
    fn new_alert(
        &self,
        group: &Group<'_>,
        counted: &DedupOutcome,
        log_types: Vec<String>,
    ) -> Alert {
        let (meta, outcome, kind) = (group.meta, group.outcome, group.kind);
        let title = match &outcome.error {
            Some(message) => format!("Rule {} raised {}", meta.id, exception_type(message)),
            None => outcome.title.clone().unwrap_or_else(|| meta.id.clone()),
        };
        let mut alert = Alert {
            id: counted.alert_id.clone(),
            rule_id: meta.id.clone(),
            dedup: group.dedup.clone(),
            title,
            severity: group.severity,
            log_types,
            first_seen: counted.window_start.min(group.first_time),
            last_seen: group.last_time,
            event_count: counted.event_count,
            context: outcome.alert_context.clone().unwrap_or(Value::Null),
            kind,
            created_at: Some(Utc::now()),
            description: outcome.description.clone().or_else(|| meta.description.clone()),
            reference: outcome.reference.clone().or_else(|| meta.reference.clone()),
            runbook: outcome.runbook.clone().or_else(|| meta.runbook.clone()),
            ..Alert::default()
        };
        if let Some(message) = &outcome.error {
            alert.context = serde_json::json!({ "error": message });
        }
        if kind != AlertKind::Signal {
            alert.destinations =
                self.router.route(&alert, &meta.output_ids, outcome.destinations.as_deref());
            alert.deliveries = crate::delivery::pending(&alert.destinations);
        }
        alert
    }
}

/// What the detector needs to know of each event of a batch besides its JSON.
#[derive(Debug, Clone)]
pub struct EventMeta {
    /// `p_event_time`.
    pub time: DateTime<Utc>,
    /// `p_log_type`.
    pub log_type: Arc<str>,
}

/// The matches of one rule with one dedup string inside one window, in one batch.
struct Group<'a> {
    meta: &'a RuleMeta,
    /// The first match: its title, context and texts make the alert.
    outcome: &'a RuleOutcome,
    kind: AlertKind,
    dedup: String,
    severity: Severity,
    count: u64,
    first_time: DateTime<Utc>,
    last_time: DateTime<Utc>,
    log_types: Vec<Arc<str>>,
    /// Each match: its event's index, severity and error.
    members: Vec<(usize, Severity, Option<&'a str>)>,
}

/// An outcome's kind, dedup string and severity, counted into `summary`.
fn classify(
    meta: &RuleMeta,
    outcome: &RuleOutcome,
    summary: &mut Summary,
) -> (AlertKind, String, Severity) {
    match &outcome.error {
        Some(message) => {
            summary.rule_errors += 1;
            let exception = exception_type(message);
            caracal_telemetry::emit(RuleRaised { rule_id: &meta.id, error: message });
            (AlertKind::RuleError, format!("error:{exception}"), Severity::Info)
        }
        None => {
            summary.matches += 1;
            let kind = if meta.create_alert { AlertKind::Rule } else { AlertKind::Signal };
            if kind == AlertKind::Signal {
                summary.signals += 1;
            }
            let dedup =
                outcome.dedup.clone().unwrap_or_else(|| format!("defaultDedupString:{}", meta.id));
            let severity =
                outcome.severity.as_deref().and_then(|s| s.parse().ok()).unwrap_or(meta.severity);
            (kind, dedup, severity)
        }
    }
}

fn merge(total: &mut Summary, batch: Summary) {
    total.events += batch.events;
    total.matches += batch.matches;
    total.signals += batch.signals;
    total.rule_errors += batch.rule_errors;
    total.below_threshold += batch.below_threshold;
    for id in batch.opened {
        if !total.opened.contains(&id) {
            total.opened.push(id);
        }
    }
    for id in batch.updated {
        if !total.updated.contains(&id) && !total.opened.contains(&id) {
            total.updated.push(id);
        }
    }
}

/// `rule: ValueError: bad` → `ValueError`.
fn exception_type(message: &str) -> String {
    let rest = message.strip_prefix("rule: ").unwrap_or(message);
    let name = rest.split(':').next().unwrap_or(rest).trim();
    if name.is_empty() || name.contains(' ') { "Error".to_owned() } else { name.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_types_are_read_from_rule_errors() {
        assert_eq!(exception_type("rule: KeyError: 'x'"), "KeyError");
        assert_eq!(exception_type("rule: DetectionTimeout: took 5s"), "DetectionTimeout");
        assert_eq!(exception_type("something odd happened"), "Error");
    }
}
