//! Alerts: list with filters, one alert, status / assignee updates (audited in the
//! alert's history with the token's name), and the events behind an alert.

use axum::Json;
use axum::extract::{Path, Query, State};
use caracal_app::alerts::{self, AlertFilter};
use caracal_app::tokens::Scope;
use caracal_core::{Alert, AlertStatus, Severity};
use caracal_detect::AlertUpdate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::ApiState;

/// Filters of `GET /v1/alerts`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Only this status: open, triaged, closed, resolved.
    pub status: Option<String>,
    /// Only at least this severity.
    pub severity: Option<String>,
    /// Only this rule.
    pub rule: Option<String>,
    /// Only alerts with events at or after this time (RFC 3339).
    pub since: Option<String>,
    /// At most this many, 1 to 1000 (default 100).
    pub limit: Option<usize>,
}

/// A status or assignee change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertPatch {
    /// open, triaged, closed or resolved.
    pub status: Option<String>,
    /// The new assignee; "" clears it.
    pub assignee: Option<String>,
}

/// The events behind an alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertEvents {
    /// The alert id.
    pub alert_id: String,
    /// The events with their `p_` fields and match columns, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Value>,
}

fn parse<T: std::str::FromStr>(what: &str, value: Option<&str>) -> Result<Option<T>, ApiError> {
    value
        .map(|v| v.parse().map_err(|_| ApiError::BadRequest(format!("{what} {v:?} is not valid"))))
        .transpose()
}

/// List alerts, newest first.
#[utoipa::path(get, path = "/v1/alerts", tag = "detection", params(AlertQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<AlertQuery>,
) -> Result<Json<Vec<Alert>>, ApiError> {
    caller.require(Scope::Read)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest("limit must be 1 to 1000".into()));
    }
    let status: Option<AlertStatus> = parse("status", q.status.as_deref())?;
    let since = q
        .since
        .as_deref()
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| ApiError::BadRequest(format!("since {s:?} is not RFC 3339")))
        })
        .transpose()?;
    let filter = AlertFilter {
        statuses: status.into_iter().collect(),
        min_severity: parse::<Severity>("severity", q.severity.as_deref())?,
        rule_id: q.rule,
        since,
        limit,
    };
    Ok(Json(alerts::list(state.ctx(), &filter).await?))
}

/// One alert with its context, deliveries and history.
#[utoipa::path(get, path = "/v1/alerts/{id}", tag = "detection",
    params(("id" = String, Path, description = "The alert id")), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    caller.require(Scope::Read)?;
    match alerts::get(state.ctx(), &id).await? {
        Some(alert) => Ok(Json(alert)),
        None => Err(ApiError::NotFound(format!("no alert {id:?}"))),
    }
}

/// Change an alert's status or assignee (`remediate` scope); the alert's history names
/// the token.
#[utoipa::path(patch, path = "/v1/alerts/{id}", tag = "detection", request_body = AlertPatch,
    params(("id" = String, Path, description = "The alert id")), security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(patch): Json<AlertPatch>,
) -> Result<Json<Alert>, ApiError> {
    caller.require(Scope::Remediate)?;
    let update =
        AlertUpdate { status: parse("status", patch.status.as_deref())?, assignee: patch.assignee };
    if update.status.is_none() && update.assignee.is_none() {
        return Err(ApiError::BadRequest("nothing to change: give status and/or assignee".into()));
    }
    if alerts::get(state.ctx(), &id).await?.is_none() {
        return Err(ApiError::NotFound(format!("no alert {id:?}")));
    }
    let actor = caller.actor().audit_name();
    Ok(Json(alerts::update(state.ctx(), &id, &update, &actor).await?))
}

/// The events behind an alert, from the lake's match tables (needs `serve --lake`).
#[utoipa::path(get, path = "/v1/alerts/{id}/events", tag = "detection",
    params(("id" = String, Path, description = "The alert id")), security(("bearer" = [])),
    responses((status = 200, body = AlertEvents), (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn events(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AlertEvents>, ApiError> {
    caller.require(Scope::Read)?;
    let Some(lake) = state.lake() else {
        return Err(ApiError::NotFound("this server keeps no lake (serve --lake DIR)".into()));
    };
    match alerts::events(state.ctx(), &id, lake, 1000).await? {
        Some((alert, events)) => Ok(Json(AlertEvents { alert_id: alert.id, events })),
        None => Err(ApiError::NotFound(format!("no alert {id:?}"))),
    }
}
