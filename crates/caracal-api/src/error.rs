//! [`ApiError`]: every failure answers JSON `{"error": {"code", "message"}}` with a
//! status that says whose fault it was; internal causes are logged, not echoed.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tracing::warn;
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be understood.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no token, or one that is not valid.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// 403: the token lacks the scope.
    #[error("this token lacks the {0} scope")]
    Forbidden(&'static str),
    /// 404: no such thing.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with the state (a remediation refused).
    #[error("{0}")]
    Conflict(String),
    /// 503: a dependency (the store, AWS) is not available.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected failure; the message stays in the log.
    #[error("internal error")]
    Internal(String),
}

/// The JSON body of an error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code: bad_request, unauthorized, forbidden, not_found, conflict,
    /// unavailable, internal.
    pub code: String,
    /// A human message.
    pub message: String,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// An answer for `status` with `message` (the body-limit and JSON rejections).
    pub fn from_status(status: StatusCode, message: String) -> Self {
        match status {
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized,
            StatusCode::NOT_FOUND => ApiError::NotFound(message),
            s if s.is_client_error() => ApiError::BadRequest(message),
            _ => ApiError::Internal(message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let message = match &self {
            ApiError::Internal(detail) => {
                warn!(error = %detail, "API request failed.");
                self.to_string()
            }
            ApiError::Unavailable(detail) => {
                warn!(error = %detail, "API dependency unavailable.");
                self.to_string()
            }
            _ => self.to_string(),
        };
        let body = ErrorBody { error: ErrorDetail { code: code.into(), message } };
        (status, Json(body)).into_response()
    }
}

impl From<caracal_app::Error> for ApiError {
    fn from(err: caracal_app::Error) -> Self {
        use caracal_app::Error as E;
        let message = caracal_core::error::chain(&err);
        match &err {
            E::Invalid(m) => ApiError::BadRequest(m.clone()),
            E::Store { source, .. }
                if matches!(**source, caracal_store::Error::InvalidPageToken { .. }) =>
            {
                ApiError::BadRequest("invalid cursor".into())
            }
            E::Remediate(inner) => remediate(inner, message),
            E::Store { .. } | E::Aws { .. } => ApiError::Unavailable(message),
            _ => ApiError::Internal(message),
        }
    }
}

impl From<caracal_store::Error> for ApiError {
    fn from(err: caracal_store::Error) -> Self {
        match err {
            caracal_store::Error::InvalidPageToken { .. } => {
                ApiError::BadRequest("invalid cursor".into())
            }
            other => ApiError::Unavailable(caracal_core::error::chain(&other)),
        }
    }
}

/// Remediation failures the caller can act on are 4xx; the rest are the service's.
fn remediate(err: &caracal_remediate::Error, message: String) -> ApiError {
    use caracal_remediate::Error as R;
    match err {
        R::UnknownRemediation { .. }
        | R::WrongResourceType { .. }
        | R::UnrecognizedResource { .. }
        | R::BadParameter { .. }
        | R::UnknownAccount { .. }
        | R::AmbiguousAccount { .. } => ApiError::BadRequest(message),
        R::NotApplicable { .. }
        | R::ChangedSincePlan { .. }
        | R::PlanMismatch { .. }
        | R::TooManyResources { .. }
        | R::NotConfirmed { .. } => ApiError::Conflict(message),
        R::Aws { .. } | R::Session(_) | R::Store(_) => ApiError::Unavailable(message),
        _ => ApiError::Internal(message),
    }
}
