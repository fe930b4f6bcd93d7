//! Click-to-remediate: the catalog, a dry-run plan (any token), apply (`remediate`
//! scope: re-check, act, verify, re-scan, re-evaluate, audit with the token's name), and
//! the audit history.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use caracal_app::tokens::Scope;
use caracal_app::{posture, remediation};
use caracal_core::AuditRecord;
use caracal_remediate::{Plan, REMEDIATIONS, Report};
use caracal_store::AuditFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::ApiState;

/// One remediation of the catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogEntry {
    /// Its id.
    pub id: String,
    /// The resource type it fixes.
    pub resource_type: String,
    /// What it changes.
    pub description: String,
    /// low, medium or high.
    pub risk: String,
    /// IAM actions it needs.
    pub permissions: Vec<String>,
    /// Its parameters.
    pub parameters: Vec<ParamInfo>,
}

/// A remediation parameter.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParamInfo {
    /// Its name.
    pub name: String,
    /// Its type.
    pub kind: String,
    /// Its default.
    pub default: Option<String>,
    /// Whether it must be given.
    pub required: bool,
    /// What it does.
    pub description: String,
}

/// What to remediate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemediationRequest {
    /// The ResourceId.
    pub resource_id: String,
    /// The remediation id (see `GET /v1/remediations`).
    pub remediation_id: String,
    /// Parameters by name, as text (`"ports": "22,3389"`).
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

/// The outcome of an apply.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplyResult {
    /// The executor's report: audit id, outcome, plan, before and after.
    #[schema(value_type = Object)]
    pub report: Report,
    /// The resource's verdicts after the re-scan, when policies are configured.
    #[schema(value_type = Vec<Object>)]
    pub verdicts: Vec<caracal_core::Finding>,
}

/// Filters of `GET /v1/audit`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this resource.
    pub resource: Option<String>,
    /// Only this remediation.
    pub remediation: Option<String>,
    /// At most this many, 1 to 1000 (default 100).
    pub limit: Option<usize>,
}

/// The remediation catalog.
#[utoipa::path(get, path = "/v1/remediations", tag = "remediation", security(("bearer" = [])),
    responses((status = 200, body = Vec<CatalogEntry>), (status = 401, body = ErrorBody)))]
pub async fn catalog(caller: Caller) -> Result<Json<Vec<CatalogEntry>>, ApiError> {
    caller.require(Scope::Read)?;
    Ok(Json(
        REMEDIATIONS
            .iter()
            .map(|r| {
                let m = r.meta();
                CatalogEntry {
                    id: m.id.into(),
                    resource_type: m.resource_type.into(),
                    description: m.description.into(),
                    risk: m.risk.as_str().into(),
                    permissions: m.permissions.iter().map(|p| (*p).to_owned()).collect(),
                    parameters: m
                        .parameters
                        .iter()
                        .map(|p| ParamInfo {
                            name: p.name.into(),
                            kind: format!("{:?}", p.kind).to_lowercase(),
                            default: p.default.map(str::to_owned),
                            required: p.required,
                            description: p.description.into(),
                        })
                        .collect(),
                }
            })
            .collect(),
    ))
}

fn request(
    caller: &Caller,
    body: &RemediationRequest,
) -> Result<caracal_remediate::Request, ApiError> {
    let pairs: Vec<String> = body.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Ok(remediation::request(&caller.actor(), &body.resource_id, &body.remediation_id, &pairs)?)
}

/// The dry run: the exact API calls and the expected before → after, from a fresh read.
/// Changes nothing; any token may ask.
#[utoipa::path(post, path = "/v1/remediations/plan", tag = "remediation",
    request_body = RemediationRequest, security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn plan(
    State(state): State<ApiState>,
    caller: Caller,
    Json(body): Json<RemediationRequest>,
) -> Result<Json<Plan>, ApiError> {
    caller.require(Scope::Read)?;
    let req = request(&caller, &body)?;
    Ok(Json(remediation::plan(state.ctx(), &req).await?))
}

/// Apply: plan afresh, re-check, act, verify, re-scan the resource, re-evaluate its
/// policies and audit the attempt with the token's name. Needs the `remediate` scope.
#[utoipa::path(post, path = "/v1/remediations/apply", tag = "remediation",
    request_body = RemediationRequest, security(("bearer" = [])),
    responses((status = 200, body = ApplyResult), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn apply(
    State(state): State<ApiState>,
    caller: Caller,
    Json(body): Json<RemediationRequest>,
) -> Result<Json<ApplyResult>, ApiError> {
    caller.require(Scope::Remediate)?;
    let req = request(&caller, &body)?;
    let ctx = state.ctx();
    let result = async {
        let plan = remediation::plan(ctx, &req).await?;
        remediation::apply(ctx, &req, &plan).await
    }
    .await;
    // The executor's audit counts the outcome (`caracal_remediations_total`).
    let report = result?;
    let mut verdicts = Vec::new();
    if let (Some(policies), Some(_)) = (state.policies(), &report.snapshot) {
        let id = report.plan.target.resource_id.clone();
        let (evaluation, _) =
            posture::evaluate_ids(ctx, std::slice::from_ref(&id), policies).await?;
        verdicts = evaluation.findings;
    }
    Ok(Json(ApplyResult { report, verdicts }))
}

/// Past remediation attempts, newest first.
#[utoipa::path(get, path = "/v1/audit", tag = "remediation", params(AuditQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn audit(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditRecord>>, ApiError> {
    caller.require(Scope::Read)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest("limit must be 1 to 1000".into()));
    }
    let filter = AuditFilter { resource_id: q.resource, remediation_id: q.remediation, limit };
    let store = state.ctx().store().await?;
    Ok(Json(store.audit().list(&filter).await?))
}
