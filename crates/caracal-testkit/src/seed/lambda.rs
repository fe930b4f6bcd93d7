//! Lambda: per unit an execution role and two functions: `function-public`, on an
//! end-of-life runtime, whose resource policy lets any principal invoke it, and
//! `function-private`, on a current runtime, with no resource policy.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use caracal_aws::Clients;

use super::error::call;
use super::{SeedError, SeededFunction};

/// An empty zip archive (just the end-of-central-directory record): the emulator stores
/// code without running it.
const EMPTY_ZIP: [u8; 22] =
    [0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// Unit `i`'s execution role name and functions.
pub(super) async fn seed(c: &Clients, i: u32) -> Result<(String, Vec<SeededFunction>), SeedError> {
    let role_name = format!("seed-{i}-lambda");
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }],
    });
    let role = c
        .iam()
        .create_role()
        .role_name(&role_name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .map_err(call(format!("role {role_name}")))?
        .role
        .map(|r| r.arn)
        .unwrap_or_default();
    let lambda = c.lambda();
    let mut functions = Vec::new();
    for public in [true, false] {
        let kind = if public { "public" } else { "private" };
        let name = format!("seed-{i}-function-{kind}");
        let runtime = if public { Runtime::Python37 } else { Runtime::Python312 };
        let arn = lambda
            .create_function()
            .function_name(&name)
            .runtime(runtime.clone())
            .role(&role)
            .handler("index.handler")
            .code(FunctionCode::builder().zip_file(Blob::new(EMPTY_ZIP.to_vec())).build())
            .send()
            .await
            .map_err(call(format!("function {name}")))?
            .function_arn
            .unwrap_or_default();
        if public {
            lambda
                .add_permission()
                .function_name(&name)
                .statement_id("seed-anyone-invokes")
                .action("lambda:InvokeFunction")
                .principal("*")
                .send()
                .await
                .map_err(call(format!("permission on {name}")))?;
        }
        functions.push(SeededFunction {
            name,
            arn,
            runtime: runtime.as_str().to_owned(),
            public_policy: public,
        });
    }
    Ok((role_name, functions))
}
