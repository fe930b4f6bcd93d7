//! Resources: the latest snapshots with filters and cursor paging, and one resource
//! with its verdicts and history.

use axum::Json;
use axum::extract::{Path, Query, State};
use caracal_app::tokens::Scope;
use caracal_core::{ComplianceStatus, Finding, ResourceChange};
use caracal_store::{PageRequest, ResourceFilter, StoredResource, StoredSnapshot};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::ApiState;

/// The largest page.
pub const MAX_LIMIT: usize = 1000;

/// Filters and paging of `GET /v1/resources`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResourceQuery {
    /// Only this type, such as `AWS.S3.Bucket`.
    #[serde(rename = "type")]
    pub resource_type: Option<String>,
    /// Only this account.
    pub account: Option<String>,
    /// Only this region (`global` for global types).
    pub region: Option<String>,
    /// Only resources with at least one unsuppressed verdict of this status
    /// (`fail`, `error`) or with none failing (`pass`).
    pub compliance: Option<String>,
    /// Include resources marked deleted.
    #[serde(default)]
    pub include_deleted: bool,
    /// The `next` cursor of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<usize>,
}

/// One stored resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceItem {
    /// The latest snapshot, in the shape policies receive (passed on as stored).
    #[schema(value_type = Object)]
    pub resource: Box<serde_json::value::RawValue>,
    /// When first stored.
    #[serde(serialize_with = "crate::time::serialize")]
    pub first_seen: DateTime<Utc>,
    /// When last seen by a scan.
    #[serde(serialize_with = "crate::time::serialize")]
    pub last_seen: DateTime<Utc>,
    /// When a scan found it gone.
    #[serde(serialize_with = "crate::time::serialize_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A page of resources.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourcePage {
    /// The resources.
    pub items: Vec<ResourceItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// One resource, its verdicts and its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceDetail {
    /// The resource.
    #[serde(flatten)]
    pub item: ResourceItem,
    /// Every policy's verdict on it.
    #[schema(value_type = Vec<Object>)]
    pub verdicts: Vec<Finding>,
    /// Its changes, oldest first, with the snapshot after each.
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<ResourceChange>,
}

impl From<StoredSnapshot> for ResourceItem {
    fn from(stored: StoredSnapshot) -> Self {
        ResourceItem {
            resource: stored.snapshot,
            first_seen: stored.first_seen,
            last_seen: stored.last_seen,
            deleted_at: stored.deleted_at,
        }
    }
}

impl TryFrom<StoredResource> for ResourceItem {
    type Error = ApiError;

    fn try_from(stored: StoredResource) -> Result<Self, ApiError> {
        Ok(ResourceItem {
            resource: serde_json::value::to_raw_value(&stored.resource)
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            first_seen: stored.first_seen,
            last_seen: stored.last_seen,
            deleted_at: stored.deleted_at,
        })
    }
}

/// Which verdicts make a resource match `?compliance=`.
fn compliance_matches(wanted: &str, verdicts: &[Finding]) -> bool {
    let live = || verdicts.iter().filter(|f| !f.suppressed);
    match wanted {
        "fail" => live().any(|f| f.status == ComplianceStatus::Fail),
        "error" => live().any(|f| matches!(f.status, ComplianceStatus::Error(_))),
        _ => !live().any(|f| f.status == ComplianceStatus::Fail),
    }
}

/// List resources.
#[utoipa::path(get, path = "/v1/resources", tag = "resources", params(ResourceQuery),
    security(("bearer" = [])),
    responses((status = 200, body = ResourcePage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<ResourceQuery>,
) -> Result<Json<ResourcePage>, ApiError> {
    caller.require(Scope::Read)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!("limit must be 1 to {MAX_LIMIT}")));
    }
    let compliance = match q.compliance.as_deref().map(str::to_ascii_lowercase) {
        None => None,
        Some(c) if matches!(c.as_str(), "pass" | "fail" | "error") => Some(c),
        Some(c) => {
            return Err(ApiError::BadRequest(format!("compliance {c:?}: pass, fail or error")));
        }
    };
    let filter = ResourceFilter {
        resource_type: q.resource_type,
        account_id: q.account,
        region: q.region,
        include_deleted: q.include_deleted,
    };
    let page = PageRequest { token: q.cursor, limit };
    let store = state.ctx().store().await?;
    let found = store.resources().list_snapshots(&filter, &page).await?;
    // One store read for the whole page's verdicts, not one per resource.
    let verdicts = match &compliance {
        Some(_) => {
            let ids: Vec<String> = found.items.iter().map(|s| s.resource_id.clone()).collect();
            store.compliance().for_resources(&ids).await?
        }
        None => Default::default(),
    };
    let mut items = Vec::with_capacity(found.items.len());
    for stored in found.items {
        if let Some(wanted) = &compliance {
            let none = Vec::new();
            let own = verdicts.get(&stored.resource_id).unwrap_or(&none);
            if !compliance_matches(wanted, own) {
                continue;
            }
        }
        items.push(stored.into());
    }
    Ok(Json(ResourcePage { items, next: found.next }))
}

/// One resource with its verdicts and history. The id is the URL-encoded ResourceId.
#[utoipa::path(get, path = "/v1/resources/{id}", tag = "resources",
    params(("id" = String, Path, description = "The ResourceId (an ARN), URL-encoded")),
    security(("bearer" = [])),
    responses((status = 200, body = ResourceDetail), (status = 404, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ResourceDetail>, ApiError> {
    caller.require(Scope::Read)?;
    let store = state.ctx().store().await?;
    let Some(stored) = store.resources().get_stored(&id).await? else {
        return Err(ApiError::NotFound(format!("no resource {id:?}")));
    };
    let verdicts = store.compliance().for_resource(&id).await?;
    let history = store.resources().history(&id).await?;
    Ok(Json(ResourceDetail { item: stored.try_into()?, verdicts, history }))
}
