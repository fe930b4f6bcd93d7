//! Indicator search over the lake: `GET /v1/search?value=...` finds an IP, domain, ARN,
//! account id, instance id, hash, email or username in every log type's `p_any_*`
//! columns, with counts per log type and the first hits (as `caracal search --json`).

use axum::Json;
use axum::extract::{Query, State};
use caracal_app::search::{SearchError, SearchRequest, SearchResult};
use caracal_app::tokens::Scope;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::ApiState;

/// Parameters of `GET /v1/search`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The value: 10.0.0.1, example.com, arn:aws:..., 123456789012, i-0abc..., a hash,
    /// an email or a username.
    pub value: Option<String>,
    /// Only events at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Only events at or before this time (RFC 3339).
    pub until: Option<String>,
    /// List at most this many hits, 1 to 1000 (default 50); the counts cover all.
    pub limit: Option<usize>,
}

fn time(what: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| ApiError::BadRequest(format!("{what} {v:?} is not RFC 3339")))
        })
        .transpose()
}

/// Find an indicator value in every log type.
#[utoipa::path(get, path = "/v1/search", tag = "detection", params(SearchQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn search(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<SearchQuery>,
) -> Result<Json<SearchResult>, ApiError> {
    caller.require(Scope::Read)?;
    let value = q.value.as_deref().map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Err(ApiError::BadRequest("value is required".into()));
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest("limit must be 1 to 1000".into()));
    }
    let request = SearchRequest {
        value: value.to_owned(),
        since: time("since", q.since.as_deref())?,
        until: time("until", q.until.as_deref())?,
        limit,
    };
    if let (Some(since), Some(until)) = (request.since, request.until)
        && since > until
    {
        return Err(ApiError::BadRequest("since is after until".into()));
    }
    let Some(search) = state.search() else {
        return Err(ApiError::Unavailable(
            "search needs a lake: start caracal serve with --lake DIR".into(),
        ));
    };
    match search.search(&request).await {
        Ok(found) => Ok(Json(found)),
        Err(err @ SearchError::NotAnIndicator(_)) => Err(ApiError::BadRequest(err.to_string())),
        Err(SearchError::Failed(message)) => Err(ApiError::Internal(message)),
    }
}
