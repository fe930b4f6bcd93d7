//! Policy alerts: a resource that starts failing a policy opens one alert for that
//! resource and policy (not Panther's one per policy per hour), through the same alert
//! store and destinations as rule alerts; the alert is resolved, and destinations that
//! track incidents are told, when the resource passes again or is deleted.
//!
//! The open alert of each resource × policy is remembered in the kv store, so a second
//! FAIL (from another scan, or a FAIL → ERROR → FAIL) adds to it instead of paging again.

use std::collections::HashMap;

use caracal_core::{Alert, AlertKind, AlertStatus, Severity, Transition};
use caracal_python::pack::DetectionSpec;
use caracal_store::Store;
use chrono::Utc;
use serde::Serialize;
use serde_json::{Value, json};
use tracing::info;

use crate::delivery::{AlertUpdate, update_alert};
use crate::destinations::Router;
use crate::error::{Error, Result};
use crate::events::AlertOpened;
use crate::state;

/// What a policy alert needs of its policy's spec.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyMeta {
    /// `PolicyID`.
    pub id: String,
    /// `DisplayName`, else the id.
    pub title: String,
    /// `Severity`.
    pub severity: Severity,
    /// `OutputIds`: destinations instead of the defaults.
    pub output_ids: Vec<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `Reference`.
    pub reference: Option<String>,
    /// `Runbook`.
    pub runbook: Option<String>,
}

impl PolicyMeta {
    /// Reads a policy's spec.
    pub fn from_spec(spec: &DetectionSpec) -> Self {
        let text = |key: &str| spec.raw.get(key).and_then(Value::as_str).map(str::to_owned);
        Self {
            id: spec.id.clone(),
            title: spec.display_name.clone().unwrap_or_else(|| spec.id.clone()),
            severity: spec.severity,
            output_ids: crate::rules::output_ids(&spec.raw),
            description: text("Description"),
            reference: text("Reference"),
            runbook: text("Runbook"),
        }
    }
}

/// What [`raise`] did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct PolicyAlertReport {
    /// Alerts opened, by id.
    pub opened: Vec<String>,
    /// Open alerts a repeated failure was added to, by id.
    pub updated: Vec<String>,
    /// Alerts resolved because the resource passes again or is gone, by id.
    pub resolved: Vec<String>,
}

/// The kv key holding the open alert of one resource × policy.
fn open_key(policy_id: &str, resource_id: &str) -> String {
    format!("caracal:policy-alert:{policy_id}\u{1f}{resource_id}")
}

/// Opens, adds to or resolves policy alerts for `transitions`. Policies missing from
/// `policies` (no longer loaded) still resolve their alerts but open none.
pub async fn raise(
    store: &dyn Store,
    router: &Router,
    transitions: &[Transition],
    policies: &HashMap<String, PolicyMeta>,
) -> Result<PolicyAlertReport> {
    let mut report = PolicyAlertReport::default();
    for t in transitions {
        let key = open_key(&t.policy_id, &t.resource_id);
        if t.starts_failing() {
            let Some(meta) = policies.get(&t.policy_id) else { continue };
            open(store, router, t, meta, &key, &mut report).await?;
        } else if t.ends_failing() {
            resolve(store, router, t, &key, &mut report).await?;
        }
    }
    Ok(report)
}

async fn open(
    store: &dyn Store,
    router: &Router,
    t: &Transition,
    meta: &PolicyMeta,
    key: &str,
    report: &mut PolicyAlertReport,
) -> Result<()> {
    let kv = store.kv();
    let stored = kv.get(key).await.map_err(Error::store("reading open policy alerts"))?;
    if let Some(id) = stored {
        let updated = state::modify(store, &id, |alert| {
            if alert.last_seen < t.at {
                alert.last_seen = t.at;
                alert.event_count += 1;
            }
        })
        .await?;
        if let Some(alert) = updated
            && matches!(alert.status, AlertStatus::Open | AlertStatus::Triaged)
        {
            report.updated.push(alert.id);
            return Ok(());
        }
    }
    let mut alert = new_alert(router, t, meta);
    let id = alert.id.clone();
    // A retried batch finds its own alert already stored: nothing new to deliver.
    if state::create(store, &mut alert).await? {
        caracal_telemetry::emit(AlertOpened {
            alert_id: &id,
            detection_id: &t.policy_id,
            resource_id: Some(&t.resource_id),
            kind: AlertKind::Policy,
            severity: alert.severity,
        });
        report.opened.push(id.clone());
    }
    kv.put(key, &id, None).await.map_err(Error::store("remembering the open policy alert"))
}

async fn resolve(
    store: &dyn Store,
    router: &Router,
    t: &Transition,
    key: &str,
    report: &mut PolicyAlertReport,
) -> Result<()> {
    let kv = store.kv();
    let Some(id) = kv.get(key).await.map_err(Error::store("reading open policy alerts"))? else {
        return Ok(());
    };
    let open = store
        .alerts()
        .get(&id)
        .await
        .map_err(Error::store(format!("reading alert {id}")))?
        .is_some_and(|a| matches!(a.status, AlertStatus::Open | AlertStatus::Triaged));
    if open {
        let update = AlertUpdate { status: Some(AlertStatus::Resolved), assignee: None };
        update_alert(store, router, &id, &update, "caracal").await?;
        info!(alert = %id, policy = %t.policy_id, resource = %t.resource_id, change = %t.describe(),
            "Policy alert resolved.");
        report.resolved.push(id);
    }
    kv.delete(key).await.map_err(Error::store("forgetting the resolved policy alert"))
}

fn new_alert(router: &Router, t: &Transition, meta: &PolicyMeta) -> Alert {
    let mut alert = Alert {
        id: caracal_store::alert_id(&t.policy_id, &t.resource_id, t.at),
        rule_id: t.policy_id.clone(),
        dedup: t.resource_id.clone(),
        title: format!("{} failed on {}", meta.title, t.resource_id),
        severity: t.severity,
        log_types: Vec::new(),
        first_seen: t.at,
        last_seen: t.at,
        event_count: 1,
        context: json!({
            "resource_id": t.resource_id,
            "resource_type": t.resource_type,
            "account_id": t.account_id,
            "region": t.region,
            "change": t.describe(),
            "scan_id": t.scan_id,
            "snapshot": t.snapshot,
        }),
        kind: AlertKind::Policy,
        created_at: Some(Utc::now()),
        description: meta.description.clone(),
        reference: meta.reference.clone(),
        runbook: meta.runbook.clone(),
        ..Alert::default()
    };
    alert.destinations = router.route(&alert, &meta.output_ids, None);
    alert.deliveries = crate::delivery::pending(&alert.destinations);
    alert
}

/// Raises the alert of a tripped auto-remediation circuit breaker: `eligible` failing
/// resources of `policy_id` wanted fixing, `allowed` were fixed and the run stopped.
/// Returns the alert id (one per policy and run).
pub async fn breaker(
    store: &dyn Store,
    router: &Router,
    policy_id: &str,
    meta: Option<&PolicyMeta>,
    eligible: usize,
    allowed: usize,
    scan_id: Option<&str>,
) -> Result<String> {
    let now = Utc::now();
    let dedup = "auto-remediation-circuit-breaker";
    let mut alert = Alert {
        id: caracal_store::alert_id(policy_id, dedup, now),
        rule_id: policy_id.to_owned(),
        dedup: dedup.to_owned(),
        title: format!(
            "Auto-remediation of {policy_id} stopped: {eligible} failing resources, limit {allowed}"
        ),
        severity: Severity::High,
        first_seen: now,
        last_seen: now,
        event_count: 1,
        context: json!({
            "policy_id": policy_id,
            "eligible": eligible,
            "allowed": allowed,
            "scan_id": scan_id,
        }),
        kind: AlertKind::Policy,
        created_at: Some(now),
        description: Some(
            "The circuit breaker of [remediation] stopped this policy's automatic fixes; \
             check why so many resources fail before raising max_resources / max_percent."
                .to_owned(),
        ),
        runbook: meta.and_then(|m| m.runbook.clone()),
        ..Alert::default()
    };
    let output_ids = meta.map(|m| m.output_ids.as_slice()).unwrap_or_default();
    alert.destinations = router.route(&alert, output_ids, None);
    alert.deliveries = crate::delivery::pending(&alert.destinations);
    let id = alert.id.clone();
    state::create(store, &mut alert).await?;
    Ok(id)
}
