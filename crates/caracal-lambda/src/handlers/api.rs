//! `api`: the same axum router as `caracal serve`, behind an API Gateway HTTP API
//! (payload format 2.0) through `lambda_http`.
//!
//! Scans started with `POST /v1/scans` run in the background of the invocation that
//! started them, which Lambda freezes once the answer is sent: on AWS, start scans
//! through the scan queue (the scheduler, or a message in the scan queue) instead.

use std::sync::Arc;

use caracal_api::{ApiOptions, ApiState, HttpOptions, Metrics};

use crate::error::Result;
use crate::function::Function;

/// The API's router over the function's context, with the configured policy and rule packs.
pub fn router(function: &Function) -> Result<axum::Router> {
    let options = ApiOptions {
        policies: Some(function.policies()?),
        rules: function.ctx().config().rules.paths.clone(),
        lake: None,
    };
    let state = ApiState::new(function.ctx().clone(), options, Arc::new(Metrics::default()));
    Ok(caracal_api::router(state, &HttpOptions::default()))
}
