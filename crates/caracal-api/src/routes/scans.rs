//! Scans started through the API: trigger one for accounts / regions / types (it runs in
//! the background, then evaluates the configured policies), and follow its status. With
//! a scan queue (Lambda) the scan is split into account × region targets and queued for
//! the scanner function instead.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use caracal_app::tokens::Scope;
use caracal_app::{ScanScope, fanout, posture};
use caracal_scan::ScanRequest;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::{ApiState, ScanRun};

/// What to scan; empty lists mean everything configured.
#[derive(Debug, Default, Deserialize, ToSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScanBody {
    /// Account ids (of `[[accounts]]`, or the home account).
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Regions (`global` for global types).
    #[serde(default)]
    pub regions: Vec<String>,
    /// Resource types, such as `AWS.S3.Bucket`.
    #[serde(default)]
    pub types: Vec<String>,
}

/// Start a scan (`remediate` scope); 202 with its id, then poll `GET /v1/scans/{id}`.
/// Where scans are queued (Lambda), the answer says `queued` with the target count.
#[utoipa::path(post, path = "/v1/scans", tag = "scans", request_body = ScanBody,
    security(("bearer" = [])),
    responses((status = 202, body = ScanRun), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn start(
    State(state): State<ApiState>,
    caller: Caller,
    Json(body): Json<ScanBody>,
) -> Result<(StatusCode, Json<ScanRun>), ApiError> {
    caller.require(Scope::Remediate)?;
    if let Some(bad) = body.types.iter().find(|t| caracal_scan::collector(t).is_none()) {
        return Err(ApiError::BadRequest(format!("unknown resource type {bad:?}")));
    }
    let request = serde_json::to_value(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    // No types named: the configured ones (`[scan] types`, empty: every type), whether
    // the scan runs here or is queued.
    let types = match body.types.is_empty() {
        true => state.ctx().config().scan.types.clone(),
        false => body.types,
    };
    let scope = ScanScope {
        accounts: body.accounts,
        request: ScanRequest { regions: body.regions, types },
    };
    if let Some(queue) = state.scan_queue() {
        // Split and queue before answering: a refused target fails the request, so
        // nothing is reported as started that was not handed over.
        let targets = fanout::scan_targets(state.ctx(), &scope).await?;
        queue
            .send(&targets)
            .await
            .map_err(|reason| ApiError::Unavailable(format!("queueing the scan: {reason}")))?;
        let id = state.scan_started(request, caller.actor().audit_name());
        state.scan_queued(id, targets.len());
        let run = state.scan(id).ok_or_else(|| ApiError::Internal("scan vanished".into()))?;
        return Ok((StatusCode::ACCEPTED, Json(run)));
    }
    let id = state.scan_started(request, caller.actor().audit_name());
    let task_state = state.clone();
    let runtime = tokio::runtime::Handle::current();
    // The scan future is not provably `Send` for every lifetime it borrows (the rustc
    // higher-ranked limitation), so it is driven from a blocking thread instead of
    // `tokio::spawn`; its own work still runs on the runtime.
    tokio::task::spawn_blocking(move || {
        let policies = task_state.policies().cloned();
        let result = runtime.block_on(posture::scan_and_evaluate(
            task_state.ctx(),
            &scope,
            policies.as_ref(),
            &(),
        ));
        let outcome = match result {
            Ok(result) => {
                let totals = result.outcome.report.totals();
                let failing = result.evaluation.as_ref().map_or(0, |e| e.reportable().len());
                Ok(serde_json::json!({
                    "seen": totals.seen, "new": totals.new, "changed": totals.changed,
                    "deleted": totals.deleted, "errors": result.outcome.report.errors.len(),
                    "failing": failing,
                }))
            }
            Err(err) => Err(caracal_core::error::chain(&err)),
        };
        task_state.scan_finished(id, outcome);
    });
    let run = state.scan(id).ok_or_else(|| ApiError::Internal("scan vanished".into()))?;
    Ok((StatusCode::ACCEPTED, Json(run)))
}

/// The scans started through this server, newest first (the last 100).
#[utoipa::path(get, path = "/v1/scans", tag = "scans", security(("bearer" = [])),
    responses((status = 200, body = Vec<ScanRun>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<ScanRun>>, ApiError> {
    caller.require(Scope::Read)?;
    Ok(Json(state.scan_list()))
}

/// One scan's status.
#[utoipa::path(get, path = "/v1/scans/{id}", tag = "scans",
    params(("id" = u64, Path, description = "The scan id")), security(("bearer" = [])),
    responses((status = 200, body = ScanRun), (status = 404, body = ErrorBody),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<Json<ScanRun>, ApiError> {
    caller.require(Scope::Read)?;
    state.scan(id).map(Json).ok_or_else(|| ApiError::NotFound(format!("no scan {id}")))
}
