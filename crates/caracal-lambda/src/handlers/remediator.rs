//! `remediator`: remediation requests, from its queue (an SQS batch) or by direct
//! invoke (one [`RemediationRequest`]). Each runs through the executor: plan, fresh
//! re-check, apply, verify, re-scan, audit. A direct invoke with `dry_run` answers the
//! plan and changes nothing.
//!
//! From the queue, a request that ran (fixed, not fixed, refused: all audited) is done;
//! only one that may succeed later (AWS or store trouble) goes back to the queue.

use caracal_remediate::Request;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tracing::warn;

use crate::error::{Error, Result};
use crate::event::{BatchResponse, SqsEvent};
use crate::function::Function;

/// Who the audit names when a request names no actor.
pub const DEFAULT_ACTOR: &str = "lambda:remediator";

/// One remediation to run.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RemediationRequest {
    /// The resource's `ResourceId`.
    pub resource_id: String,
    /// The remediation id, such as `AWS.S3.BlockBucketPublicAccess`.
    pub remediation_id: String,
    /// Parameters; missing ones take their defaults.
    #[serde(default)]
    pub parameters: Map<String, Value>,
    /// Who asks, as audited (default [`DEFAULT_ACTOR`]).
    #[serde(default)]
    pub actor: Option<String>,
    /// Answer the plan only (direct invoke).
    #[serde(default)]
    pub dry_run: bool,
}

impl RemediationRequest {
    fn request(&self) -> Request {
        Request {
            actor: self.actor.clone().unwrap_or_else(|| DEFAULT_ACTOR.to_owned()),
            resource_id: self.resource_id.clone(),
            remediation_id: self.remediation_id.clone(),
            parameters: self.parameters.clone(),
        }
    }
}

/// Runs a queue batch (`{"Records": [...]}`, answered with `batchItemFailures`) or one
/// direct request (answered with the plan or the report).
pub async fn handle(function: &Function, event: Value) -> Result<Value> {
    if event.get("Records").is_some() {
        let batch: SqsEvent = serde_json::from_value(event)
            .map_err(|e| Error::Payload(format!("not an SQS batch: {e}")))?;
        let response = handle_batch(function, &batch).await;
        return serde_json::to_value(response).map_err(|e| Error::Payload(e.to_string()));
    }
    let request: RemediationRequest = serde_json::from_value(event)
        .map_err(|e| Error::Payload(format!("not a remediation request: {e}")))?;
    let ctx = function.ctx();
    let answer = if request.dry_run {
        serde_json::to_value(caracal_app::remediation::plan(ctx, &request.request()).await?)
    } else {
        serde_json::to_value(caracal_app::remediation::run(ctx, &request.request()).await?)
    };
    answer.map_err(|e| Error::Payload(e.to_string()))
}

async fn handle_batch(function: &Function, batch: &SqsEvent) -> BatchResponse {
    let mut response = BatchResponse::default();
    for record in &batch.records {
        let request: RemediationRequest = match serde_json::from_str(&record.body) {
            Ok(r) => r,
            Err(err) => {
                warn!(message = %record.message_id, error = %err, "Not a remediation request.");
                response.fail(&record.message_id);
                continue;
            }
        };
        if request.dry_run {
            continue;
        }
        if let Err(err) = caracal_app::remediation::run(function.ctx(), &request.request()).await {
            let err = Error::from(err);
            warn!(
                message = %record.message_id, resource = %request.resource_id,
                error = %caracal_core::error::chain(&err), retryable = err.retryable(),
                "Remediation did not complete."
            );
            if retry(&err) {
                response.fail(&record.message_id);
            }
        }
    }
    response
}

/// Whether a failed request goes back to the queue: only when AWS or the store failed
/// before the remediation was decided (refusals and verified failures are audited).
fn retry(err: &Error) -> bool {
    match err {
        Error::App(caracal_app::Error::Remediate(e)) => {
            e.outcome() == caracal_core::AuditOutcome::Failed
        }
        other => other.retryable(),
    }
}
