//! Compliance: the overview (per policy, severity, resource type and framework control),
//! findings, and the policies and rules with their state.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use caracal_app::tokens::Scope;
use caracal_core::{ComplianceStatus, Finding, Transition};
use caracal_python::pack::{self, DetectionSpec};
use caracal_store::{StatusCounts, TransitionQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::ApiState;

/// Verdict counts of one group.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct Counts {
    /// Passing.
    pub pass: u64,
    /// Failing, unsuppressed.
    pub fail: u64,
    /// The policy errored.
    pub error: u64,
    /// Failing but suppressed.
    pub suppressed_fail: u64,
}

impl Counts {
    fn add(&mut self, c: &StatusCounts) {
        self.pass += c.pass;
        self.fail += c.fail;
        self.error += c.error;
        self.suppressed_fail += c.suppressed_fail;
    }
}

impl From<&StatusCounts> for Counts {
    fn from(c: &StatusCounts) -> Self {
        let mut counts = Counts::default();
        counts.add(c);
        counts
    }
}

/// The compliance overview.
#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    /// Per policy id.
    pub by_policy: BTreeMap<String, Counts>,
    /// Per severity.
    pub by_severity: BTreeMap<String, Counts>,
    /// Per resource type (a policy over several types counts under each).
    pub by_resource_type: BTreeMap<String, Counts>,
    /// Per framework control from the policies' `Reports` (`CIS 1.10`, ...).
    pub by_control: BTreeMap<String, Counts>,
}

/// A policy or rule as loaded from its pack.
#[derive(Debug, Serialize, ToSchema)]
pub struct DetectionInfo {
    /// PolicyID or RuleID.
    pub id: String,
    /// `policy` or `rule`.
    pub kind: String,
    /// Enabled in its spec.
    pub enabled: bool,
    /// Its severity.
    pub severity: String,
    /// Its display name.
    pub display_name: Option<String>,
    /// The resource types (policies).
    pub resource_types: Vec<String>,
    /// The log types (rules).
    pub log_types: Vec<String>,
    /// Framework controls (`Reports`), when the spec has them.
    #[schema(value_type = Option<Object>)]
    pub reports: Option<serde_json::Value>,
    /// Verdict counts in the store (policies).
    pub counts: Option<Counts>,
}

fn info(spec: &DetectionSpec, counts: Option<Counts>) -> DetectionInfo {
    DetectionInfo {
        id: spec.id.clone(),
        kind: format!("{:?}", spec.kind).to_lowercase(),
        enabled: spec.enabled,
        severity: spec.severity.as_str().to_owned(),
        display_name: spec.display_name.clone(),
        resource_types: spec.resource_types.clone(),
        log_types: spec.log_types.clone(),
        reports: spec.raw.get("Reports").filter(|r| !r.is_null()).cloned(),
        counts,
    }
}

/// `CIS: ["1.10", "1.11"]` → `CIS 1.10`, `CIS 1.11`.
fn controls(spec: &DetectionSpec) -> Vec<String> {
    let Some(serde_json::Value::Object(reports)) = spec.raw.get("Reports") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (framework, ids) in reports {
        match ids {
            serde_json::Value::Array(ids) => out.extend(
                ids.iter().map(|id| format!("{framework} {}", id.as_str().unwrap_or_default())),
            ),
            serde_json::Value::String(id) => out.push(format!("{framework} {id}")),
            _ => {}
        }
    }
    out
}

/// The compliance overview.
#[utoipa::path(get, path = "/v1/compliance", tag = "compliance", security(("bearer" = [])),
    responses((status = 200, body = Overview), (status = 401, body = ErrorBody)))]
pub async fn overview(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Overview>, ApiError> {
    caller.require(Scope::Read)?;
    let store = state.ctx().store().await?;
    let per_policy = store.compliance().overview_by_policy().await?;
    let per_severity = store.compliance().overview_by_severity().await?;
    let specs = state.policy_specs().await?;
    let by_id: BTreeMap<&str, &DetectionSpec> = specs.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut overview = Overview {
        by_policy: BTreeMap::new(),
        by_severity: per_severity
            .iter()
            .map(|r| (r.key.as_str().to_owned(), (&r.counts).into()))
            .collect(),
        by_resource_type: BTreeMap::new(),
        by_control: BTreeMap::new(),
    };
    for row in &per_policy {
        overview.by_policy.insert(row.key.clone(), (&row.counts).into());
        if let Some(spec) = by_id.get(row.key.as_str()) {
            for t in &spec.resource_types {
                overview.by_resource_type.entry(t.clone()).or_default().add(&row.counts);
            }
            for control in controls(spec) {
                overview.by_control.entry(control).or_default().add(&row.counts);
            }
        }
    }
    Ok(Json(overview))
}

/// Filters of `GET /v1/findings`: a policy or a resource is required.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingQuery {
    /// The findings of this policy.
    pub policy: Option<String>,
    /// The findings on this resource.
    pub resource: Option<String>,
    /// Only this status: pass, fail or error.
    pub status: Option<String>,
    /// Include suppressed findings (default false).
    #[serde(default)]
    pub include_suppressed: bool,
}

/// Findings of a policy or on a resource.
#[utoipa::path(get, path = "/v1/findings", tag = "compliance", params(FindingQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn findings(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<FindingQuery>,
) -> Result<Json<Vec<Finding>>, ApiError> {
    caller.require(Scope::Read)?;
    let status = q.status.as_deref().map(str::to_ascii_uppercase);
    if let Some(s) = &status
        && !matches!(s.as_str(), "PASS" | "FAIL" | "ERROR")
    {
        return Err(ApiError::BadRequest(format!("status {s:?}: pass, fail or error")));
    }
    let store = state.ctx().store().await?;
    let found = match (&q.policy, &q.resource) {
        (Some(policy), _) => store.compliance().for_policy(policy).await?,
        (None, Some(resource)) => store.compliance().for_resource(resource).await?,
        (None, None) => return Err(ApiError::BadRequest("give policy= or resource=".into())),
    };
    Ok(Json(
        found
            .into_iter()
            .filter(|f| q.resource.as_ref().is_none_or(|r| &f.resource_id == r))
            .filter(|f| q.include_suppressed || !f.suppressed)
            .filter(|f| {
                status.as_deref().is_none_or(|s| match &f.status {
                    ComplianceStatus::Error(_) => s == "ERROR",
                    other => other.as_str() == s,
                })
            })
            .collect(),
    ))
}

/// Filters of `GET /v1/compliance/history`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only this resource.
    pub resource: Option<String>,
    /// Only this policy.
    pub policy: Option<String>,
    /// Only changes at or after this time: RFC 3339, or an age such as `7d`, `12h`.
    pub since: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<usize>,
}

/// Verdict changes (transitions), newest first: NEW→FAIL, FAIL→PASS, →DELETED, with the
/// scan and snapshot version that caused each.
#[utoipa::path(get, path = "/v1/compliance/history", tag = "compliance", params(HistoryQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn history(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Vec<Transition>>, ApiError> {
    caller.require(Scope::Read)?;
    let since = q
        .since
        .as_deref()
        .map(caracal_core::time::parse_since)
        .transpose()
        .map_err(ApiError::BadRequest)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(format!("limit {limit}: 1 to 1000")));
    }
    let store = state.ctx().store().await?;
    let query = TransitionQuery { resource_id: q.resource, policy_id: q.policy, since, limit };
    Ok(Json(store.compliance().transitions(&query).await?))
}

/// The policies of the configured packs with their verdict counts.
#[utoipa::path(get, path = "/v1/policies", tag = "compliance", security(("bearer" = [])),
    responses((status = 200, body = Vec<DetectionInfo>), (status = 401, body = ErrorBody)))]
pub async fn policies(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<DetectionInfo>>, ApiError> {
    caller.require(Scope::Read)?;
    let store = state.ctx().store().await?;
    let counts: BTreeMap<String, Counts> = store
        .compliance()
        .overview_by_policy()
        .await?
        .iter()
        .map(|r| (r.key.clone(), (&r.counts).into()))
        .collect();
    let specs = state.policy_specs().await?;
    Ok(Json(
        specs
            .iter()
            .filter(|s| s.kind == pack::DetectionKind::Policy)
            .map(|s| info(s, Some(counts.get(&s.id).copied().unwrap_or_default())))
            .collect(),
    ))
}

/// The rules of the configured packs.
#[utoipa::path(get, path = "/v1/rules", tag = "detection", security(("bearer" = [])),
    responses((status = 200, body = Vec<DetectionInfo>), (status = 401, body = ErrorBody)))]
pub async fn rules(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<DetectionInfo>>, ApiError> {
    caller.require(Scope::Read)?;
    let specs = state.rule_specs().await?;
    Ok(Json(
        specs
            .iter()
            .filter(|s| s.kind == pack::DetectionKind::Rule)
            .map(|s| info(s, None))
            .collect(),
    ))
}
