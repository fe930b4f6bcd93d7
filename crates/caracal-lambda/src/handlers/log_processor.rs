//! `log-processor`: consumes S3 object notifications (plain, or wrapped by an SNS
//! topic) from the log queue: each object is classified, parsed and normalized into
//! the lake (S3, Parquet), the rules run on the events, alerts are stored and
//! delivered. Only the messages that could not finish are returned as
//! `batchItemFailures`, so one bad object never re-runs a good one.

use caracal_logs::poll::Message;
use tracing::{info, warn};

use crate::error::Result;
use crate::event::{BatchResponse, SqsEvent};
use crate::function::Function;

/// Processes the batch; see the module doc.
pub async fn handle(function: &Function, event: SqsEvent) -> Result<BatchResponse> {
    let messages: Vec<Message> = event
        .records
        .into_iter()
        .map(|r| Message { id: r.message_id, receipt: r.receipt_handle, body: r.body })
        .collect();
    let mut guard = function.outputs().await?;
    let (pipeline, outputs) = &mut *guard;
    let outcome =
        caracal_app::logs::process_batch(function.ctx(), pipeline, &messages, outputs).await?;
    let mut response = BatchResponse::default();
    for failed in &outcome.failed {
        warn!(message = %failed.id, error = %failed.error, retryable = failed.retryable, "Message failed.");
        response.fail(&failed.id);
    }
    info!(
        messages = messages.len(),
        done = outcome.done.len(),
        failed = outcome.failed.len(),
        events = outcome.report.events,
        errors = outcome.report.errors,
        "Batch processed."
    );
    Ok(response)
}
