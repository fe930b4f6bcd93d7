//! The `scanner` function: see [`caracal_lambda::handlers::scanner`].

use std::process::ExitCode;

use caracal_lambda::SqsEvent;
use caracal_lambda::functions::SCANNER;
use caracal_lambda::handlers::scanner;

fn main() -> ExitCode {
    caracal_lambda::host(|| {
        caracal_lambda::serve(&SCANNER, |function, event: SqsEvent| async move {
            scanner::handle(&function, event).await
        })
    })
}
