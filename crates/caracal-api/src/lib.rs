//! caracal's HTTP API: a JSON API over the stores, served by `caracal serve` and (later)
//! from a Lambda behind API Gateway with the same [`router`].
//!
//! - Resources with filters and cursor paging, one resource with its verdicts and
//!   history; policies and rules; the compliance overview (per policy, severity, resource
//!   type and framework control); findings; alerts (list, get, update, matched events);
//!   scans (trigger, status); the remediation catalog, **plan** and **apply**; the audit.
//! - `/health`, `/ready`, Prometheus `/metrics`, and the OpenAPI 3 document at
//!   `/openapi.json`, generated from the handlers ([`ApiDoc`]).
//! - Auth: `Authorization: Bearer cct_…` tokens with scopes `read` < `remediate` <
//!   `admin` (`caracal_app::tokens`); 401 without a valid token, 403 without the scope.
//!   Writes are audited with the token's name.
//! - Safe defaults: 1 MiB request bodies, a request timeout, CORS only for configured
//!   origins; every error is a JSON body `{"error": {"code", "message"}}`, never a panic.
//!
//! Handlers are thin: they check the scope, call a use case of `caracal_app` (or read
//! the store), and answer JSON.
#![deny(missing_docs)]

pub mod auth;
pub mod error;
pub mod metrics;
pub mod routes;
pub mod state;
mod time;

use std::time::Duration;

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub use crate::error::ApiError;
pub use crate::metrics::Metrics;
pub use crate::state::{ApiOptions, ApiState};

use crate::routes::{alerts, compliance, meta, remediation, resources, scans, search};

/// Limits and CORS of the router.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Largest request body in bytes.
    pub body_limit: usize,
    /// Longest a request may take.
    pub timeout: Duration,
    /// Origins allowed by CORS; empty: no CORS headers at all.
    pub cors_origins: Vec<String>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self { body_limit: 1 << 20, timeout: Duration::from_secs(120), cors_origins: Vec::new() }
    }
}

/// The OpenAPI document of the API.
#[derive(OpenApi)]
#[openapi(
    info(title = "caracal", description = "Self-hosted AWS security: posture, detection, remediation."),
    paths(
        meta::health, meta::ready, meta::metrics, meta::openapi, meta::list_tokens,
        resources::list, resources::get,
        compliance::overview, compliance::history, compliance::findings, compliance::policies,
        compliance::rules,
        alerts::list, alerts::get, alerts::update, alerts::events, search::search,
        scans::start, scans::list, scans::get,
        remediation::catalog, remediation::plan, remediation::apply, remediation::audit,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The API's routes over `state`, with limits, timeouts, counting and JSON errors.
pub fn router(state: ApiState, http: &HttpOptions) -> Router {
    let mut router = Router::new()
        .route("/health", get(meta::health))
        .route("/ready", get(meta::ready))
        .route("/metrics", get(meta::metrics))
        .route("/openapi.json", get(meta::openapi))
        .route("/v1/tokens", get(meta::list_tokens))
        .route("/v1/resources", get(resources::list))
        .route("/v1/resources/{id}", get(resources::get))
        .route("/v1/compliance", get(compliance::overview))
        .route("/v1/compliance/history", get(compliance::history))
        .route("/v1/findings", get(compliance::findings))
        .route("/v1/policies", get(compliance::policies))
        .route("/v1/rules", get(compliance::rules))
        .route("/v1/alerts", get(alerts::list))
        .route("/v1/search", get(search::search))
        .route("/v1/alerts/{id}", get(alerts::get).patch(alerts::update))
        .route("/v1/alerts/{id}/events", get(alerts::events))
        .route("/v1/scans", get(scans::list).post(scans::start))
        .route("/v1/scans/{id}", get(scans::get))
        .route("/v1/remediations", get(remediation::catalog))
        .route("/v1/remediations/plan", post(remediation::plan))
        .route("/v1/remediations/apply", post(remediation::apply))
        .route("/v1/audit", get(remediation::audit))
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(http.body_limit))
        .layer(axum::extract::DefaultBodyLimit::max(http.body_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, http.timeout))
        // Outside the limits, so that their answers become JSON too.
        .layer(middleware::map_response(json_errors));
    if !http.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> =
            http.cors_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
        router = router.layer(
            CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::GET, Method::POST, Method::PATCH])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        );
    }
    router.layer(middleware::from_fn_with_state(state.clone(), count)).with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

/// Counts each request by method, matched route and status.
async fn count(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    state.metrics().requests.get_or_create(&metrics::RequestLabels { method, route, status }).inc();
    response
}

/// Rewrites error answers that are not JSON (axum's rejections of a bad query, path or
/// body, the body limit, the timeout) into the API's JSON error body.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let bytes = to_bytes(response.into_body(), 64 * 1024).await.unwrap_or_default();
    let mut message = String::from_utf8_lossy(&bytes).trim().to_owned();
    if message.is_empty() {
        message = status.canonical_reason().unwrap_or("error").to_owned();
    }
    // A body that is not JSON or not the expected document (axum answers 415 / 422) is
    // a bad request like any other; other statuses (413, 405, 408 ...) are kept.
    let status = match status {
        StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::UNPROCESSABLE_ENTITY => {
            StatusCode::BAD_REQUEST
        }
        other => other,
    };
    let mut answer = ApiError::from_status(status, message).into_response();
    *answer.status_mut() = status;
    answer
}

/// Serves `router` on `listener` until `shutdown` resolves; in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}
