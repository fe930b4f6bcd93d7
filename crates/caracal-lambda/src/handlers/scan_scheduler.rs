//! `scan-scheduler`: an EventBridge schedule fires it; it sends one message per account
//! and region ([`ScanTarget`]) to the scan queue, which the scanner consumes.
//!
//! The scheduled event carries nothing needed; a custom event may name accounts in
//! `detail.accounts` to scan only those.

use caracal_app::fanout::{self, ScanTarget};
use serde::Serialize;
use serde_json::Value;
use tracing::info;

use crate::error::{Error, Result};
use crate::function::Function;

/// What was scheduled.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Scheduled {
    /// Messages sent, one per target.
    pub targets: usize,
}

/// Splits the configured scan into targets and queues them.
pub async fn handle(function: &Function, event: Value) -> Result<Scheduled> {
    let accounts = match event.pointer("/detail/accounts") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|a| a.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                Error::Payload("detail.accounts must be a list of account ids".into())
            })?,
        Some(_) => return Err(Error::Payload("detail.accounts must be a list".into())),
    };
    let queue = function
        .settings()
        .scan_queue_url
        .clone()
        .ok_or(Error::Env { name: "CARACAL_SCAN_QUEUE_URL", reason: "not set".into() })?;
    let ctx = function.ctx();
    let targets = fanout::scan_targets(ctx, &accounts).await?;
    let sqs = ctx.home_clients().await?.sqs();
    send(&sqs, &queue, &targets).await?;
    info!(targets = targets.len(), "Scan targets queued.");
    Ok(Scheduled { targets: targets.len() })
}

/// Sends the targets in batches of ten; any entry SQS refuses fails the whole call, so
/// the scheduler's retry queues the scan again (a duplicate scan is harmless).
async fn send(sqs: &aws_sdk_sqs::Client, queue: &str, targets: &[ScanTarget]) -> Result<()> {
    let fail = |reason: String| Error::Queue { queue: queue.to_owned(), reason };
    for (n, chunk) in targets.chunks(10).enumerate() {
        let mut request = sqs.send_message_batch().queue_url(queue);
        for (i, target) in chunk.iter().enumerate() {
            let body = serde_json::to_string(target).map_err(|e| fail(e.to_string()))?;
            let entry = aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(format!("t{}", n * 10 + i))
                .message_body(body)
                .build()
                .map_err(|e| fail(e.to_string()))?;
            request = request.entries(entry);
        }
        let out = request.send().await.map_err(|e| fail(caracal_core::error::chain(&e)))?;
        if let Some(first) = out.failed().first() {
            return Err(fail(format!(
                "{} of {} messages refused, first: {} {}",
                out.failed().len(),
                chunk.len(),
                first.code(),
                first.message().unwrap_or_default()
            )));
        }
    }
    Ok(())
}
