//! [`host`]: what every binary's `main` is (a Python worker when asked to be one, else a
//! tokio runtime running the function); [`serve`]: the loop of every queue- or
//! event-fed function: build the [`Function`] once, then hand each invocation's payload
//! to its handler.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Result;
use crate::function::Function;
use crate::functions::FunctionSpec;

/// Runs `main` on a multi-threaded runtime, first serving as a supervised Python worker
/// when started as one (detections run in worker processes of this same binary, see
/// `caracal_python::worker`). A start-up error is logged and ends the process with 1;
/// Lambda then reports the init failure.
pub fn host<Fut>(main: impl FnOnce() -> Fut) -> ExitCode
where
    Fut: Future<Output = Result<(), lambda_runtime::Error>>,
{
    if let Some(code) = caracal_python::worker::serve_if_requested() {
        return code;
    }
    crate::init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!(error = %err, "No async runtime.");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(main()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "Function stopped.");
            ExitCode::FAILURE
        }
    }
}

/// Runs `handler` for `spec` against the Lambda Runtime API (`AWS_LAMBDA_RUNTIME_API`)
/// until the process is stopped. A handler error is reported as the invocation's error
/// (`Retryable` / `NonRetryable`); a start-up error ends the process.
pub async fn serve<E, R, F, Fut>(
    spec: &'static FunctionSpec,
    handler: F,
) -> Result<(), lambda_runtime::Error>
where
    E: DeserializeOwned,
    R: Serialize,
    F: Fn(Arc<Function>, E) -> Fut,
    Fut: Future<Output = Result<R>>,
{
    let function = Arc::new(Function::from_env(spec).await?);
    let handler = Arc::new(handler);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<E>| {
        let (function, handler) = (function.clone(), handler.clone());
        async move { handler(function, event.payload).await }
    }))
    .await
}
