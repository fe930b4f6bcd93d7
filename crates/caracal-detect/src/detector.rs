//! The [`Detector`]: runs the rules over batches of normalized events and turns matches
//! into alerts with Panther's semantics: dedup string per rule, tumbling
//! `DedupPeriodMinutes` windows, `Threshold`, dynamic severity, `CreateAlert: false`
//! signals, and rule errors grouped per rule and exception type.
//!
//! Window state lives in the store (`AlertStore::record_match`, a conditional update),
//! so two processes never open two alerts for one dedup key and window.

use std::sync::{Arc, Mutex};

use caracal_core::{Alert, AlertKind, Delivery, DeliveryStatus, Severity};
use caracal_python::RuleOutcome;
use caracal_store::{MatchKey, Store};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tokio::runtime::Handle;
use tracing::{info, warn};

use crate::destinations::Router;
use crate::error::{Error, Result};
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
    /// interpreter is shared, so this applies to every engine of the process.
    pub fn attach_store(&self) -> Result<()> {
        let engine = &self.rules.engine;
        engine
            .set_posture(Some(Arc::new(StoreLookup::new(self.store.clone()))))
            .map_err(Error::python("attaching posture lookups"))?;
        engine
            .set_kv_store(Arc::new(StoreKv::new(self.store.clone())))
            .map_err(Error::python("attaching the rule state store"))
    }

    /// The compiled rules.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The totals so far.
    pub fn summary(&self) -> Summary {
        self.summary.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Runs every rule registered for each event's `p_log_type` over `json_array` (a
    /// JSON array of normalized events), then counts each match into its alert window.
    /// Blocking: holds the GIL, then waits on the store; call it from a blocking
    /// section. A rule that raises costs only its own verdict (a RULE_ERROR alert).
    pub fn run_batch(&self, json_array: &str, events: usize) -> Result<()> {
        let outcomes = self
            .rules
            .engine
            .evaluate_events_json(json_array)
            .map_err(Error::python("running rules"))?;
        let mut times: Option<Vec<Value>> = None;
        let mut summary = Summary { events: events as u64, ..Summary::default() };
        for outcome in &outcomes {
            let Some(meta) = self.rules.meta.get(outcome.rule) else { continue };
            // Only matching events' times are needed: parse the batch again lazily.
            let times = times.get_or_insert_with(|| {
                serde_json::from_str::<Vec<Value>>(json_array).unwrap_or_default()
            });
            let event = times.get(outcome.event);
            let event_time = event.and_then(event_time).unwrap_or_else(Utc::now);
            let log_type = event
                .and_then(|e| e.get("p_log_type"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            self.runtime.block_on(self.record(
                meta,
                outcome,
                event_time,
                log_type,
                &mut summary,
            ))?;
        }
        let mut total = self.summary.lock().unwrap_or_else(|p| p.into_inner());
        merge(&mut total, summary);
        Ok(())
    }

    async fn record(
        &self,
        meta: &RuleMeta,
        outcome: &RuleOutcome,
        event_time: DateTime<Utc>,
        log_type: String,
        summary: &mut Summary,
    ) -> Result<()> {
        let (kind, dedup, title, severity) = match &outcome.error {
            Some(message) => {
                summary.rule_errors += 1;
                let exception = exception_type(message);
                warn!(rule = %meta.id, error = %message, "Rule raised.");
                (
                    AlertKind::RuleError,
                    format!("error:{exception}"),
                    format!("Rule {} raised {exception}", meta.id),
                    Severity::Info,
                )
            }
            None => {
                summary.matches += 1;
                let kind = if meta.create_alert { AlertKind::Rule } else { AlertKind::Signal };
                if kind == AlertKind::Signal {
                    summary.signals += 1;
                }
                let title = outcome.title.clone().unwrap_or_else(|| meta.id.clone());
                let dedup = outcome
                    .dedup
                    .clone()
                    .unwrap_or_else(|| format!("defaultDedupString:{}", meta.id));
                let severity = outcome
                    .severity
                    .as_deref()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(meta.severity);
                (kind, dedup, title, severity)
            }
        };
        // Errors alert at once whatever the rule's threshold; signals count like alerts.
        let threshold = if kind == AlertKind::RuleError { 1 } else { meta.threshold };
        let window_rule = match kind {
            AlertKind::RuleError => format!("{}:RULE_ERROR", meta.id),
            _ => meta.id.clone(),
        };
        let key = MatchKey {
            rule_id: &window_rule,
            dedup: &dedup,
            event_time,
            window: meta.dedup_period,
            threshold,
        };
        let counted = self
            .store
            .alerts()
            .record_match(&key)
            .await
            .map_err(Error::store(format!("counting a match of {}", meta.id)))?;
        if counted.event_count < threshold {
            summary.below_threshold += 1;
            return Ok(());
        }
        let store = self.store.as_ref();
        if counted.threshold_reached {
            let mut alert = Alert {
                id: counted.alert_id.clone(),
                rule_id: meta.id.clone(),
                dedup,
                title,
                severity,
                log_types: if log_type.is_empty() { Vec::new() } else { vec![log_type.clone()] },
                first_seen: counted.window_start.min(event_time),
                last_seen: event_time,
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
                alert.deliveries = alert
                    .destinations
                    .iter()
                    .map(|d| Delivery {
                        destination: d.clone(),
                        status: DeliveryStatus::Pending,
                        attempts: 0,
                        last_attempt: None,
                        last_error: None,
                    })
                    .collect();
            }
            if state::create(store, &mut alert).await? {
                info!(alert = %alert.id, rule = %meta.id, kind = kind.as_str(), "Alert opened.");
                summary.opened.push(alert.id);
                return Ok(());
            }
        }
        // The alert exists (or another process created it just now): add this match.
        let updated = state::modify(store, &counted.alert_id, |alert| {
            alert.event_count = alert.event_count.max(counted.event_count);
            alert.last_seen = alert.last_seen.max(event_time);
            alert.first_seen = alert.first_seen.min(event_time);
            alert.severity = alert.severity.max(severity);
            if !log_type.is_empty() && !alert.log_types.contains(&log_type) {
                alert.log_types.push(log_type.clone());
            }
        })
        .await?;
        match updated {
            Some(alert) => {
                if !summary.updated.contains(&alert.id) && !summary.opened.contains(&alert.id) {
                    summary.updated.push(alert.id);
                }
            }
            // Past the threshold but no alert: the process that reached the threshold
            // has not stored it yet, or died before it could. Counted, not lost: the
            // window's count is in the store and the next match updates the alert.
            None => warn!(alert = %counted.alert_id, "Alert not stored yet; match counted."),
        }
        Ok(())
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

/// The event's `p_event_time` (`YYYY-MM-DD HH:MM:SS.fffffffff`, UTC).
fn event_time(event: &Value) -> Option<DateTime<Utc>> {
    let text = event.get("p_event_time")?.as_str()?;
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
        .or_else(|| DateTime::parse_from_rfc3339(text).ok().map(|t| t.to_utc()))
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

    #[test]
    fn event_times_parse_in_the_p_format() {
        let e = serde_json::json!({"p_event_time": "2024-07-31 12:00:01.5"});
        assert_eq!(event_time(&e).unwrap().to_rfc3339(), "2024-07-31T12:00:01.500+00:00");
    }
}
