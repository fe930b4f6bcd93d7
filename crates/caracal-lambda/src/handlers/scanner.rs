//! `scanner`: consumes the scan queue; each message is one [`ScanTarget`], scanned into
//! the store with the configured policies evaluated (and automatic remediation run when
//! `[remediation] auto` is on). Failed targets are reported as `batchItemFailures`.

use caracal_app::fanout::{self, ScanTarget};
use tracing::{info, warn};

use crate::error::Result;
use crate::event::{BatchResponse, SqsEvent};
use crate::function::Function;

/// Scans each target of the batch; a failing one never fails the others.
pub async fn handle(function: &Function, event: SqsEvent) -> Result<BatchResponse> {
    let policies = function.policies()?;
    let mut response = BatchResponse::default();
    for record in &event.records {
        let target: ScanTarget = match serde_json::from_str(&record.body) {
            Ok(target) => target,
            Err(err) => {
                warn!(message = %record.message_id, error = %err, "Not a scan target.");
                response.fail(&record.message_id);
                continue;
            }
        };
        match fanout::scan_target(function.ctx(), &target, Some(&policies)).await {
            Ok(result) => {
                let totals = result.outcome.report.totals();
                info!(
                    account = %target.account_id, region = %target.region, seen = totals.seen,
                    errors = result.outcome.report.errors.len(), "Scan target done."
                );
            }
            Err(err) => {
                warn!(
                    account = %target.account_id, region = %target.region,
                    error = %caracal_core::error::chain(&err), "Scan target failed."
                );
                response.fail(&record.message_id);
            }
        }
    }
    Ok(response)
}
