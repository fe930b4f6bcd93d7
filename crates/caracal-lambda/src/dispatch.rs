//! Work handed from one function to another through SQS.
//!
//! - [`SqsDispatch`]: automatic fixes found by the scanner and the change-events function
//!   go to the remediator's queue (`CARACAL_REMEDIATION_QUEUE_URL`) instead of running in
//!   the function that found them; the policy's `ActionDelaySeconds` becomes the
//!   message's delay (SQS allows at most 15 minutes).
//! - [`ScanQueue`]: scan targets from the scheduler and from the API's `POST /v1/scans`
//!   go to the scan queue (`CARACAL_SCAN_QUEUE_URL`), one message per target.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use caracal_app::auto_remediate::Dispatch;
use caracal_app::fanout::{ScanTarget, TargetQueue};
use caracal_remediate::Request;

use crate::handlers::remediator::RemediationRequest;

/// The longest delay SQS gives a message.
const MAX_DELAY_SECS: u64 = 900;

/// Sends remediation requests to a queue.
#[derive(Debug, Clone)]
pub struct SqsDispatch {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsDispatch {
    /// Requests go to `queue_url` through `sqs`.
    pub fn new(sqs: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self { sqs, queue_url: queue_url.into() }
    }
}

impl Dispatch for SqsDispatch {
    fn dispatch<'a>(
        &'a self,
        request: &'a Request,
        delay: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let body = RemediationRequest {
                resource_id: request.resource_id.clone(),
                remediation_id: request.remediation_id.clone(),
                parameters: request.parameters.clone(),
                actor: Some(request.actor.clone()),
                dry_run: false,
            };
            let body = serde_json::to_string(&body).map_err(|e| e.to_string())?;
            let delay = i32::try_from(delay.as_secs().min(MAX_DELAY_SECS)).unwrap_or(0);
            self.sqs
                .send_message()
                .queue_url(&self.queue_url)
                .message_body(body)
                .delay_seconds(delay)
                .send()
                .await
                .map_err(|e| {
                    format!("sending to {}: {}", self.queue_url, caracal_core::error::chain(&e))
                })?;
            Ok(())
        })
    }
}

/// Sends scan targets to the scan queue, which the scanner function consumes.
#[derive(Debug, Clone)]
pub struct ScanQueue {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl ScanQueue {
    /// Targets go to `queue_url` through `sqs`.
    pub fn new(sqs: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self { sqs, queue_url: queue_url.into() }
    }

    /// The queue's URL.
    pub fn url(&self) -> &str {
        &self.queue_url
    }
}

impl TargetQueue for ScanQueue {
    /// Sends the targets in batches of ten; any entry SQS refuses fails the whole call, so
    /// the caller's retry queues the scan again (a duplicate scan is harmless).
    fn send<'a>(
        &'a self,
        targets: &'a [ScanTarget],
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            for (n, chunk) in targets.chunks(10).enumerate() {
                let mut request = self.sqs.send_message_batch().queue_url(&self.queue_url);
                for (i, target) in chunk.iter().enumerate() {
                    let body = serde_json::to_string(target).map_err(|e| e.to_string())?;
                    let entry = aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(format!("t{}", n * 10 + i))
                        .message_body(body)
                        .build()
                        .map_err(|e| e.to_string())?;
                    request = request.entries(entry);
                }
                let out = request.send().await.map_err(|e| caracal_core::error::chain(&e))?;
                if let Some(first) = out.failed().first() {
                    return Err(format!(
                        "{} of {} messages refused, first: {} {}",
                        out.failed().len(),
                        chunk.len(),
                        first.code(),
                        first.message().unwrap_or_default()
                    ));
                }
            }
            Ok(())
        })
    }
}
