//! One module per function: `handle` takes the event as Lambda delivers it and returns
//! the answer. The binaries in `src/bin/` only wire these to `lambda_runtime`.

pub mod api;
pub mod change_events;
pub mod log_processor;
pub mod remediator;
pub mod scan_scheduler;
pub mod scanner;
