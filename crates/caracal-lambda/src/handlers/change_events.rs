//! `change-events`: CloudTrail "AWS API Call via CloudTrail" events that an EventBridge
//! rule sends to the change-events queue (directly or through SNS). Each write call
//! rescans the resources it changed and re-evaluates the policies on them. A body that
//! is not an event, or whose rescan failed, is reported in `batchItemFailures` (after
//! the queue's `maxReceiveCount` it moves to the dead-letter queue).

use caracal_app::change_events::{self, Body};
use tracing::{info, warn};

use crate::error::Result;
use crate::event::{BatchResponse, SqsEvent};
use crate::function::Function;

/// Rescans what each event of the batch changed.
pub async fn handle(function: &Function, event: SqsEvent) -> Result<BatchResponse> {
    let policies = function.policies()?;
    let mut response = BatchResponse::default();
    for record in &event.records {
        match change_events::parse(&record.body) {
            Ok(Body::Record(trail)) => {
                let stats =
                    change_events::rescan_record(function.ctx(), &trail, Some(&policies)).await;
                info!(
                    message = %record.message_id, rescans = stats.rescans,
                    unknown = stats.unknown, failed = stats.failed, "Change event handled."
                );
                if stats.failed > 0 {
                    response.fail(&record.message_id);
                }
            }
            Ok(Body::Other) => {}
            Err(reason) => {
                warn!(message = %record.message_id, reason, "Not a CloudTrail change event.");
                response.fail(&record.message_id);
            }
        }
    }
    Ok(response)
}
