//! Health, readiness, Prometheus metrics, the OpenAPI document, and token listing.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use caracal_app::tokens::{self, Scope, TokenInfo};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::ApiState;

/// A liveness or readiness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "service",
    responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// Readiness: the store opens and answers.
#[utoipa::path(get, path = "/ready", tag = "service",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn ready(State(state): State<ApiState>) -> Result<Json<Health>, ApiError> {
    let store = state.ctx().store().await?;
    store.kv().get("caracal:ready").await?;
    Ok(Json(Health { status: "ok".into() }))
}

/// The counters in the Prometheus text format (`read` scope).
#[utoipa::path(get, path = "/metrics", tag = "service", security(("bearer" = [])),
    responses((status = 200, body = String, content_type = "text/plain"),
        (status = 401, body = ErrorBody)))]
pub async fn metrics(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Scope::Read)?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.metrics().render(),
    ))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "service",
    responses((status = 200, body = Object)))]
pub async fn openapi() -> impl IntoResponse {
    Json(crate::ApiDoc::openapi())
}

/// The API tokens, without secrets (`admin` scope).
#[utoipa::path(get, path = "/v1/tokens", tag = "service", security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    caller.require(Scope::Admin)?;
    Ok(Json(tokens::list(state.ctx()).await?))
}
