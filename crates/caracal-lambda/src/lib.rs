//! caracal's serverless shape: one `lambda_runtime` function per job, each a thin entry
//! (`src/bin/*.rs`) over a handler here that tests call directly with a JSON payload.
//!
//! - [`FUNCTIONS`] lists every function: its name, its binary and the environment it
//!   reads. `infra/caracal.yaml` must agree with it (a test checks).
//! - [`Settings`] is the configuration of one function: `caracal.toml` (path in
//!   `CARACAL_CONFIG`) with the `CARACAL_*` overrides, the queues and the lake from the
//!   environment, and destination secrets from Secrets Manager or SSM parameters
//!   (`CARACAL_SECRETS`, [`secrets`]).
//! - [`Function`] holds what a function builds once per cold start: the application
//!   [`Context`](caracal_app::Context), the log pipeline and its outputs.
//! - [`handlers`]: one module per function. SQS-fed handlers answer a
//!   [`BatchResponse`] naming only the failed messages (`batchItemFailures`).
//!
//! A new function: a handler module, a `src/bin/` entry, a line in [`FUNCTIONS`] and its
//! resource in `infra/caracal.yaml`.
#![deny(missing_docs)]

pub mod dispatch;
pub mod error;
pub mod event;
pub mod function;
pub mod functions;
pub mod glue_tables;
pub mod handlers;
pub mod iam;
pub mod runtime;
pub mod secrets;
pub mod settings;

pub use crate::{
    error::{Error, Result},
    event::{BatchResponse, SqsEvent, SqsRecord},
    function::Function,
    functions::{FUNCTIONS, FunctionSpec},
    runtime::{host, serve},
    settings::Settings,
};

/// Logs as JSON lines to stdout (CloudWatch keeps them), level from `RUST_LOG`
/// (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .try_init();
}

/// The text of the generated block `name` in `infra/*.yaml` (between
/// `# BEGIN generated: NAME` and `# END generated: NAME`), indented by `indent` spaces:
/// `scan-actions` and `remediation-actions` ([`iam`]), `glue-tables` ([`glue_tables`]).
/// An error names an unknown block, or the column a Glue table can't type.
pub fn generated_block(name: &str, indent: usize) -> std::result::Result<String, String> {
    match name {
        "glue-tables" => glue_tables::block(indent).map_err(|e| format!("glue-tables: {e}")),
        _ => iam::generated_block(name, indent).ok_or_else(|| format!("unknown block {name}")),
    }
}
