//! Bearer-token authentication: the [`Caller`] extractor verifies the token of every
//! request that needs one; handlers then ask for the scope they need with
//! [`Caller::require`] (401 without a valid token, 403 without the scope).

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use caracal_app::tokens::{self, Scope, TokenInfo};

use crate::error::ApiError;
use crate::state::ApiState;

/// The authenticated caller: the token's record.
#[derive(Debug, Clone)]
pub struct Caller(pub TokenInfo);

impl Caller {
    /// Passes when the token grants `scope`.
    pub fn require(&self, scope: Scope) -> Result<&Self, ApiError> {
        if self.0.allows(scope) { Ok(self) } else { Err(ApiError::Forbidden(scope.as_str())) }
    }

    /// The actor the audit records: `token:<name>`.
    pub fn actor(&self) -> caracal_app::Actor {
        caracal_app::Actor::Token(self.0.name.clone())
    }
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or(ApiError::Unauthorized)?;
        let text = header.to_str().map_err(|_| ApiError::Unauthorized)?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .ok_or(ApiError::Unauthorized)?;
        match tokens::verify(state.ctx(), token.trim()).await? {
            Some(info) => Ok(Caller(info)),
            None => Err(ApiError::Unauthorized),
        }
    }
}
