//! `api`: the same axum router as `caracal serve`, behind an API Gateway HTTP API
//! (payload format 2.0) through `lambda_http`.
//!
//! `POST /v1/scans` does not scan in the function (Lambda freezes it once the answer is
//! sent): it splits the scan into account × region targets and queues them on the scan
//! queue (`CARACAL_SCAN_QUEUE_URL`) for the scanner function, answering `queued`.

use std::sync::Arc;

use caracal_api::{ApiOptions, ApiState, HttpOptions, Metrics};
use caracal_app::fanout::TargetQueue;

use crate::dispatch::ScanQueue;

use crate::error::Result;
use crate::function::Function;

/// The API's router over the function's context, with the configured policy and rule
/// packs, queueing scans on the scan queue.
pub async fn router(function: &Function) -> Result<axum::Router> {
    let scan_queue = match &function.settings().scan_queue_url {
        Some(url) => {
            let sqs = function.ctx().home_clients().await?.sqs();
            Some(Arc::new(ScanQueue::new(sqs, url.clone())) as Arc<dyn TargetQueue>)
        }
        None => None,
    };
    let options = ApiOptions {
        policies: Some(function.policies()?),
        rules: function.ctx().config().rules.paths.clone(),
        lake: None,
        scan_queue,
        // Searching the S3 lake from Lambda is Athena's job (the template's Glue tables);
        // `/v1/search` answers 503 here.
        search: None,
    };
    let state = ApiState::new(function.ctx().clone(), options, Arc::new(Metrics::default()));
    Ok(caracal_api::router(state, &HttpOptions::default()))
}
