//! `scan-scheduler`: an EventBridge schedule fires it; it sends one message per account
//! and region ([`ScanTarget`]) to the scan queue, which the scanner consumes.
//!
//! The scheduled event carries nothing needed; a custom event may name accounts in
//! `detail.accounts` to scan only those.

use caracal_app::ScanScope;
use caracal_app::fanout::{self, TargetQueue};
use caracal_scan::ScanRequest;
use serde::Serialize;
use serde_json::Value;
use tracing::info;

use crate::dispatch::ScanQueue;
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
    let scope = ScanScope { accounts, request: ScanRequest::default() };
    let targets = fanout::scan_targets(ctx, &scope).await?;
    let queue = ScanQueue::new(ctx.home_clients().await?.sqs(), queue);
    queue
        .send(&targets)
        .await
        .map_err(|reason| Error::Queue { queue: queue.url().to_owned(), reason })?;
    info!(targets = targets.len(), "Scan targets queued.");
    Ok(Scheduled { targets: targets.len() })
}
