//! Alert use cases: list with filters, show one, update its status or assignee, and
//! deliver what is still pending.

use caracal_core::{Alert, AlertStatus, Severity};
use caracal_detect::{AlertUpdate, DeliveryReport, RetryPolicy, Router};
use chrono::{DateTime, Utc};

use crate::context::Context;
use crate::error::{Error, Result};

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only these statuses (empty: any).
    pub statuses: Vec<AlertStatus>,
    /// Only at least this severity.
    pub min_severity: Option<Severity>,
    /// Only this rule.
    pub rule_id: Option<String>,
    /// Only alerts whose last event is at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// At most this many, newest first.
    pub limit: usize,
}

/// The newest alerts that pass `filter`.
pub async fn list(ctx: &Context, filter: &AlertFilter) -> Result<Vec<Alert>> {
    let store = ctx.store().await?;
    // Filters are applied to a bounded window of recent alerts.
    let window = filter.limit.max(1).saturating_mul(20).max(1000);
    let alerts =
        store.alerts().list_recent(window).await.map_err(Error::store("listing alerts"))?;
    Ok(alerts
        .into_iter()
        .filter(|a| filter.statuses.is_empty() || filter.statuses.contains(&a.status))
        .filter(|a| filter.min_severity.is_none_or(|s| a.severity >= s))
        .filter(|a| filter.rule_id.as_ref().is_none_or(|r| &a.rule_id == r))
        .filter(|a| filter.since.is_none_or(|t| a.last_seen >= t))
        .take(filter.limit.max(1))
        .collect())
}

/// One alert.
pub async fn get(ctx: &Context, alert_id: &str) -> Result<Option<Alert>> {
    let store = ctx.store().await?;
    store.alerts().get(alert_id).await.map_err(Error::store(format!("reading alert {alert_id}")))
}

/// Changes an alert's status or assignee as `actor`; resolving it resolves PagerDuty
/// incidents too.
pub async fn update(
    ctx: &Context,
    alert_id: &str,
    update: &AlertUpdate,
    actor: &str,
) -> Result<Alert> {
    let router = router(ctx).await?;
    let store = ctx.store().await?;
    caracal_detect::update_alert(store.as_ref(), &router, alert_id, update, actor)
        .await
        .map_err(Error::detect(format!("updating alert {alert_id}")))
}

/// Tries every pending delivery again.
pub async fn deliver(ctx: &Context, retry: &RetryPolicy) -> Result<DeliveryReport> {
    let router = router(ctx).await?;
    let store = ctx.store().await?;
    caracal_detect::deliver_pending(store.as_ref(), &router, retry)
        .await
        .map_err(Error::detect("delivering alerts"))
}

/// The configured `[[destinations]]`, with AWS clients of the home region when an SNS or
/// SQS destination needs them.
pub async fn router(ctx: &Context) -> Result<Router> {
    let configs = &ctx.config().destinations;
    let aws = match caracal_detect::destinations::need_aws(configs) {
        true => Some(ctx.home_clients().await?),
        false => None,
    };
    Router::new(configs, aws).map_err(Error::detect("configuring destinations"))
}

/// The events behind an alert, read back from the match tables of the local lake
/// folder `lake` (as `caracal logs process --lake` wrote it): at most `limit`, oldest
/// first. `None` when there is no such alert.
pub async fn events(
    ctx: &Context,
    alert_id: &str,
    lake: &std::path::Path,
    limit: usize,
) -> Result<Option<(Alert, Vec<serde_json::Value>)>> {
    let Some(alert) = get(ctx, alert_id).await? else { return Ok(None) };
    let (root, found) = (lake.to_path_buf(), alert.clone());
    let events = tokio::task::spawn_blocking(move || {
        caracal_logs::matches::read_local(&root, &found, limit)
    })
    .await
    .map_err(|e| Error::Invalid(format!("reading matched events: {e}")))?
    .map_err(Error::logs(format!("reading the events of alert {alert_id}")))?;
    Ok(Some((alert, events)))
}
