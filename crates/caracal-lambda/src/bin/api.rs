//! The `api` function: the HTTP API's router behind API Gateway (`lambda_http`); see
//! [`caracal_lambda::handlers::api`].

use std::process::ExitCode;

use caracal_lambda::{Function, functions::API, handlers::api};

fn main() -> ExitCode {
    caracal_lambda::host(|| async {
        let function = Function::from_env(&API).await?;
        let router = api::router(&function).await?;
        lambda_http::run(router).await
    })
}
