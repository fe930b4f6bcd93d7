//! `AWS.Lambda.Function`: ListFunctions (which carries each function's configuration),
//! then per function GetPolicy (the resource policy as JSON text, null when it has none)
//! and ListTags. A function whose policy or tags cannot be read is kept, the failed call
//! listed under `caracal:errors`.

use async_trait::async_trait;
use aws_sdk_lambda::Client;
use aws_sdk_lambda::types::FunctionConfiguration;
use caracal_core::Resource;
use serde_json::{Value, json};

use super::{Collected, Collector, Described, DetailErrors, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, e, list};

const TYPE: &str = "AWS.Lambda.Function";

pub(crate) struct Functions;

#[async_trait]
impl Collector for Functions {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "lambda", prefix: "function:" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["lambda:ListFunctions", "lambda:GetPolicy", "lambda:ListTags"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let lambda = scope.clients().lambda();
        let mut functions = Vec::new();
        let mut pages = lambda.list_functions().into_paginator().send();
        while let Some(page) = pages.next().await {
            functions.extend(page.op("lambda:ListFunctions")?.functions().iter().cloned());
        }
        let results = scope
            .each(functions, |f| {
                let lambda = lambda.clone();
                async move { Ok::<_, CollectError>(function(&lambda, scope, &f).await) }
            })
            .await;
        Ok(Collected::from_described(results))
    }
}

async fn function(lambda: &Client, scope: &Scope, f: &FunctionConfiguration) -> Described {
    let name = f.function_name().unwrap_or_default();
    let arn = f
        .function_arn()
        .map_or_else(|| scope.arn("lambda", &format!("function:{name}")), str::to_owned);
    let mut failed = DetailErrors::default();
    let policy = failed.keep_fields(
        &["Policy"],
        lambda
            .get_policy()
            .function_name(&arn)
            .send()
            .await
            .absent("lambda:GetPolicy", &["ResourceNotFoundException"])
            .map(|o| o.and_then(|o| o.policy))
            .map_err(|e| e.on(&arn)),
    );
    let tags = failed.keep(
        lambda
            .list_tags()
            .resource(&arn)
            .send()
            .await
            .op("lambda:ListTags")
            .map(|o| o.tags.unwrap_or_default().into_iter().collect())
            .map_err(|e| e.on(&arn)),
    );
    let mut r = Resource::new(&arn, TYPE, scope.account_id(), scope.region());
    r.arn = Some(arn.clone());
    r.name = Some(name.to_owned());
    r.tags = tags.unwrap_or_default();
    if let Value::Object(map) = configuration(f) {
        r.attributes.extend(map);
    }
    if let Some(policy) = policy {
        r = r.with("Policy", policy);
    }
    failed.finish(r)
}

fn configuration(f: &FunctionConfiguration) -> Value {
    json!({
        "FunctionName": f.function_name(),
        "FunctionArn": f.function_arn(),
        "Runtime": e(f.runtime()),
        "Role": f.role(),
        "Handler": f.handler(),
        "CodeSize": f.code_size(),
        "CodeSha256": f.code_sha256(),
        "Description": f.description(),
        "Timeout": f.timeout(),
        "MemorySize": f.memory_size(),
        "LastModified": f.last_modified(),
        "Version": f.version(),
        "VpcConfig": f.vpc_config().map(|v| json!({
            "SubnetIds": v.subnet_ids(),
            "SecurityGroupIds": v.security_group_ids(),
            "VpcId": v.vpc_id(),
        })),
        "DeadLetterConfig": f.dead_letter_config().map(|d| json!({"TargetArn": d.target_arn()})),
        "Environment": f.environment().map(|env| json!({
            // Variable names only: values often hold secrets, and no policy needs them.
            "VariableNames": env.variables().map(|v| {
                let mut names: Vec<&String> = v.keys().collect();
                names.sort();
                names
            }),
        })),
        "KMSKeyArn": f.kms_key_arn(),
        "TracingConfig": f.tracing_config().map(|t| json!({"Mode": e(t.mode())})),
        "MasterArn": f.master_arn(),
        "Layers": list(f.layers(), |l| json!({"Arn": l.arn(), "CodeSize": l.code_size()})),
        "State": e(f.state()),
        "PackageType": e(f.package_type()),
        "Architectures": list(f.architectures(), |a| Value::String(a.as_str().to_owned())),
        "EphemeralStorage": f.ephemeral_storage().map(|s| json!({"Size": s.size()})),
        "LoggingConfig": f.logging_config().map(|l| json!({
            "LogFormat": e(l.log_format()),
            "LogGroup": l.log_group(),
        })),
    })
}
