//! The `remediator` function: see [`caracal_lambda::handlers::remediator`].

use std::process::ExitCode;

use caracal_lambda::functions::REMEDIATOR;
use caracal_lambda::handlers::remediator;
use serde_json::Value;

fn main() -> ExitCode {
    caracal_lambda::host(|| {
        caracal_lambda::serve(&REMEDIATOR, |function, event: Value| async move {
            remediator::handle(&function, event).await
        })
    })
}
