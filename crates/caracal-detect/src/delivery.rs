//! Delivering alerts: every pending delivery is tried with retries and backoff; one that
//! still fails stays pending with its error and is tried again on the next run, so an
//! alert is never dropped because a receiver was down.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use caracal_core::{Alert, AlertChange, AlertStatus, Delivery, DeliveryStatus};
use caracal_store::Store;
use chrono::Utc;
use serde::Serialize;
use tracing::warn;

use crate::destinations::{Action, Router};
use crate::error::{Error, Result};
use crate::events::DeliveryAttempted;
use crate::state;

/// How hard to try one delivery before leaving it pending.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per run, the first included.
    pub attempts: usize,
    /// The first backoff; doubled each time, with jitter.
    pub first_backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            first_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// What one delivery run did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct DeliveryReport {
    /// Deliveries that succeeded.
    pub delivered: u64,
    /// Deliveries left pending, as `alert id → destination: error`.
    pub pending: Vec<String>,
}

/// How many recent alerts a run looks through for pending deliveries.
pub const SCAN_RECENT: usize = 5000;

/// Tries every pending delivery of the most recent alerts, and stores the outcome on
/// each alert (attempts, last error, delivered).
pub async fn deliver_pending(
    store: &dyn Store,
    router: &Router,
    policy: &RetryPolicy,
) -> Result<DeliveryReport> {
    let alerts = store
        .alerts()
        .list_recent(SCAN_RECENT)
        .await
        .map_err(Error::store("listing alerts to deliver"))?;
    let mut report = DeliveryReport::default();
    for mut alert in alerts.into_iter().filter(Alert::delivery_pending) {
        deliver_alert(&mut alert, router, policy, &mut report).await;
        // Record the outcomes on the latest copy (its counts may have grown meanwhile).
        let outcomes = alert.deliveries;
        state::modify(store, &alert.id, |stored| {
            for outcome in &outcomes {
                if let Some(d) =
                    stored.deliveries.iter_mut().find(|d| d.destination == outcome.destination)
                    && d.status == DeliveryStatus::Pending
                {
                    *d = outcome.clone();
                }
            }
        })
        .await?;
    }
    Ok(report)
}

async fn deliver_alert(
    alert: &mut Alert,
    router: &Router,
    policy: &RetryPolicy,
    report: &mut DeliveryReport,
) {
    let snapshot = alert.clone();
    for delivery in alert.deliveries.iter_mut().filter(|d| d.status == DeliveryStatus::Pending) {
        let Some(destination) = router.get(&delivery.destination) else {
            delivery.last_error = Some("no such destination in the configuration".into());
            report
                .pending
                .push(format!("{} → {}: not configured", snapshot.id, delivery.destination));
            continue;
        };
        let mut attempts = 0u32;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(policy.first_backoff)
            .with_max_delay(policy.max_backoff)
            .with_max_times(policy.attempts.saturating_sub(1))
            .with_jitter();
        let result = (|| {
            attempts += 1;
            destination.send(&snapshot, Action::Trigger)
        })
        .retry(backoff)
        .await;
        delivery.attempts += attempts;
        delivery.last_attempt = Some(Utc::now());
        match result {
            Ok(()) => {
                delivery.status = DeliveryStatus::Delivered;
                delivery.last_error = None;
                report.delivered += 1;
                caracal_telemetry::emit(DeliveryAttempted {
                    alert_id: &snapshot.id,
                    destination: &delivery.destination,
                    error: None,
                });
            }
            Err(err) => {
                caracal_telemetry::emit(DeliveryAttempted {
                    alert_id: &snapshot.id,
                    destination: &delivery.destination,
                    error: Some(err.as_str()),
                });
                report.pending.push(format!("{} → {}: {err}", snapshot.id, delivery.destination));
                delivery.last_error = Some(err);
            }
        }
    }
}

/// One pending delivery per destination: how a new alert starts.
pub(crate) fn pending(destinations: &[String]) -> Vec<Delivery> {
    destinations
        .iter()
        .map(|d| Delivery {
            destination: d.clone(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            last_attempt: None,
            last_error: None,
        })
        .collect()
}

/// A change to an alert's lifecycle.
#[derive(Debug, Clone, Default)]
pub struct AlertUpdate {
    /// The new status.
    pub status: Option<AlertStatus>,
    /// The new assignee (`Some("")` clears it).
    pub assignee: Option<String>,
}

/// Applies `update` to an alert, records who did it in its history, and, when the
/// alert becomes resolved, tells destinations that track incidents (PagerDuty).
pub async fn update_alert(
    store: &dyn Store,
    router: &Router,
    alert_id: &str,
    update: &AlertUpdate,
    actor: &str,
) -> Result<Alert> {
    let now = Utc::now();
    let mut resolved = false;
    let alert = state::modify(store, alert_id, |alert| {
        resolved = false;
        if let Some(status) = update.status
            && status != alert.status
        {
            alert.history.push(AlertChange {
                at: now,
                actor: actor.to_owned(),
                field: "status".into(),
                from: Some(alert.status.as_str().to_owned()),
                to: Some(status.as_str().to_owned()),
            });
            resolved = status == AlertStatus::Resolved;
            alert.status = status;
        }
        if let Some(assignee) = &update.assignee {
            let new = (!assignee.is_empty()).then(|| assignee.clone());
            if new != alert.assignee {
                alert.history.push(AlertChange {
                    at: now,
                    actor: actor.to_owned(),
                    field: "assignee".into(),
                    from: alert.assignee.clone(),
                    to: new.clone(),
                });
                alert.assignee = new;
            }
        }
    })
    .await?
    .ok_or_else(|| Error::Invalid(format!("no alert {alert_id}")))?;
    if resolved {
        for id in &alert.destinations {
            if let Some(destination) = router.get(id)
                && let Err(err) = destination.send(&alert, Action::Resolve).await
            {
                warn!(alert = %alert.id, destination = %id, error = %err, "Resolve not delivered.");
            }
        }
    }
    Ok(alert)
}
