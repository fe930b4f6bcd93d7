//! The `log-processor` function: see [`caracal_lambda::handlers::log_processor`].

use std::process::ExitCode;

use caracal_lambda::SqsEvent;
use caracal_lambda::functions::LOG_PROCESSOR;
use caracal_lambda::handlers::log_processor;

fn main() -> ExitCode {
    caracal_lambda::host(|| {
        caracal_lambda::serve(&LOG_PROCESSOR, |function, event: SqsEvent| async move {
            log_processor::handle(&function, event).await
        })
    })
}
