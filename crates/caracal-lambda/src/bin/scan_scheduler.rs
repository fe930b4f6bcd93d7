//! The `scan-scheduler` function: see [`caracal_lambda::handlers::scan_scheduler`].

use std::process::ExitCode;

use caracal_lambda::functions::SCAN_SCHEDULER;
use caracal_lambda::handlers::scan_scheduler;
use serde_json::Value;

fn main() -> ExitCode {
    caracal_lambda::host(|| {
        caracal_lambda::serve(&SCAN_SCHEDULER, |function, event: Value| async move {
            scan_scheduler::handle(&function, event).await
        })
    })
}
