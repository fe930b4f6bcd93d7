//! The `change-events` function: see [`caracal_lambda::handlers::change_events`].

use std::process::ExitCode;

use caracal_lambda::SqsEvent;
use caracal_lambda::functions::CHANGE_EVENTS;
use caracal_lambda::handlers::change_events;

fn main() -> ExitCode {
    caracal_lambda::host(|| {
        caracal_lambda::serve(&CHANGE_EVENTS, |function, event: SqsEvent| async move {
            change_events::handle(&function, event).await
        })
    })
}
