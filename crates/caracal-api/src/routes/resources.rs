//! Resources: the latest snapshots with filters and cursor paging, and one resource
//! with its verdicts and history.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use caracal_app::tokens::Scope;
use caracal_core::{ComplianceStatus, Finding, ResourceChange};
use caracal_store::{PageRequest, ResourceFilter, SnapshotPage, StoredResource};
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
) -> Result<Response, ApiError> {
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
    let body = match &compliance {
        None => page_json(&found, |_| true)?,
        Some(wanted) => {
            // One store read for the whole page's verdicts, not one per resource.
            let ids: Vec<String> = found.iter().map(|s| s.resource_id.to_owned()).collect();
            let verdicts = store.compliance().for_resources(&ids).await?;
            page_json(&found, |id| {
                compliance_matches(wanted, verdicts.get(id).map_or(&[], Vec::as_slice))
            })?
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The [`ResourcePage`] document of `page`'s resources that `keep` takes, written
/// straight from the stored snapshot texts: the listing is the API's busiest answer
/// (#13), and building a value per resource only to write it out again was most of its
/// cost. The same bytes as serializing a `ResourcePage` (a unit test compares them).
fn page_json(page: &SnapshotPage, keep: impl Fn(&str) -> bool) -> Result<Vec<u8>, ApiError> {
    let internal = |e: serde_json::Error| ApiError::Internal(e.to_string());
    let mut out = Vec::with_capacity(page.text_len() + 128 * page.len() + 64);
    out.extend_from_slice(b"{\"items\":[");
    let mut first = true;
    for item in page.iter().filter(|item| keep(item.resource_id)) {
        // The store wrote the text from a serialized resource; a cheap check that it is
        // still an object keeps a damaged row from breaking the whole document.
        let snapshot = item.snapshot.trim();
        if !(snapshot.starts_with('{') && snapshot.ends_with('}')) {
            return Err(ApiError::Internal(format!(
                "the stored snapshot of {:?} is not a JSON object",
                item.resource_id
            )));
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(b"{\"resource\":");
        out.extend_from_slice(snapshot.as_bytes());
        out.extend_from_slice(b",\"first_seen\":");
        crate::time::serialize(&item.first_seen, &mut serde_json::Serializer::new(&mut out))
            .map_err(internal)?;
        out.extend_from_slice(b",\"last_seen\":");
        crate::time::serialize(&item.last_seen, &mut serde_json::Serializer::new(&mut out))
            .map_err(internal)?;
        out.extend_from_slice(b",\"deleted_at\":");
        crate::time::serialize_opt(&item.deleted_at, &mut serde_json::Serializer::new(&mut out))
            .map_err(internal)?;
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"next\":");
    serde_json::to_writer(&mut out, &page.next).map_err(internal)?;
    out.push(b'}');
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use caracal_store::SnapshotRef;
    use chrono::TimeZone;

    #[test]
    fn the_page_is_what_serializing_a_resource_page_writes() {
        let t = |s: i64| Utc.timestamp_opt(1_765_000_000 + s, 120_000_000).unwrap();
        let snapshots = [
            r#"{"ResourceId":"arn:aws:s3:::a","ResourceType":"AWS.S3.Bucket","Name":"a \"q\" é"}"#,
            r#"{"ResourceId":"arn:aws:s3:::b","Tags":{"k":"v"},"Grants":[1,2.5,null]}"#,
            r#"{}"#,
        ];
        let mut page = SnapshotPage::with_capacity(3, 0);
        for (i, snapshot) in snapshots.iter().enumerate() {
            page.push(SnapshotRef {
                resource_id: ["a", "b", "c"][i],
                snapshot,
                first_seen: t(0),
                last_seen: t(i as i64 * 61),
                deleted_at: (i == 1).then(|| t(3600)),
            });
        }
        for next in [None, Some("eyJhIjoiYiJ9\"".to_owned())] {
            page.next = next.clone();
            let keeps: [&dyn Fn(&str) -> bool; 2] = [&|_| true, &|id| id != "b"];
            for keep in keeps {
                let items = page
                    .iter()
                    .filter(|i| keep(i.resource_id))
                    .map(|i| ResourceItem {
                        resource: serde_json::value::RawValue::from_string(i.snapshot.to_owned())
                            .unwrap(),
                        first_seen: i.first_seen,
                        last_seen: i.last_seen,
                        deleted_at: i.deleted_at,
                    })
                    .collect();
                let expected =
                    serde_json::to_vec(&ResourcePage { items, next: next.clone() }).unwrap();
                let ours = page_json(&page, keep).unwrap();
                assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(expected).unwrap());
            }
        }
        // A damaged row is an error, not a broken document.
        let mut bad = SnapshotPage::default();
        bad.push(SnapshotRef {
            resource_id: "x",
            snapshot: r#"{"truncated": "#,
            first_seen: t(0),
            last_seen: t(0),
            deleted_at: None,
        });
        assert!(matches!(page_json(&bad, |_| true), Err(ApiError::Internal(_))));
    }
}
