//! `AWS.CloudFormation.Stack`: DescribeStacks, whose answer carries each stack's
//! parameters, outputs, capabilities, drift status and tags, so no per-stack call is made.
//! Attributes keep CloudFormation's names (Panther's): `StackId`, `StackName`,
//! `StackStatus`, `EnableTerminationProtection`, `DriftInformation`, `RoleARN`, ...
//! Deleted stacks (`DELETE_COMPLETE`) are not listed by DescribeStacks.

use async_trait::async_trait;
use aws_sdk_cloudformation::types::Stack;
use caracal_core::Resource;
use serde_json::{Value, json};

use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, e, list, ts};

const TYPE: &str = "AWS.CloudFormation.Stack";

pub(crate) struct Stacks;

#[async_trait]
impl Collector for Stacks {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "cloudformation", prefix: "stack/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["cloudformation:DescribeStacks"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let cfn = scope.clients().cloudformation();
        let mut resources = Vec::new();
        let mut pages = cfn.describe_stacks().into_paginator().send();
        while let Some(page) = pages.next().await {
            for s in page.op("cloudformation:DescribeStacks")?.stacks() {
                resources.push(stack(scope, s));
            }
        }
        Ok(Collected { resources, ..Default::default() })
    }
}

pub(super) fn stack(scope: &Scope, s: &Stack) -> Resource {
    let name = s.stack_name().unwrap_or_default();
    let arn = s
        .stack_id()
        .map_or_else(|| scope.arn("cloudformation", &format!("stack/{name}")), str::to_owned);
    let mut r = Resource::new(&arn, TYPE, scope.account_id(), scope.region());
    r.arn = Some(arn.clone());
    r.id = Some(arn);
    r.name = Some(name.to_owned());
    r.tags = s
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
        .collect();
    r.time_created = created(s.creation_time());
    if let Value::Object(map) = attributes(s) {
        r.attributes.extend(map);
    }
    r
}

fn attributes(s: &Stack) -> Value {
    json!({
        "StackId": s.stack_id(),
        "StackName": s.stack_name(),
        "Description": s.description(),
        "StackStatus": e(s.stack_status()),
        "StackStatusReason": s.stack_status_reason(),
        "CreationTime": ts(s.creation_time()),
        "LastUpdatedTime": ts(s.last_updated_time()),
        "DeletionTime": ts(s.deletion_time()),
        "DisableRollback": s.disable_rollback(),
        "EnableTerminationProtection": s.enable_termination_protection().unwrap_or(false),
        "RoleARN": s.role_arn(),
        "NotificationARNs": s.notification_arns(),
        "TimeoutInMinutes": s.timeout_in_minutes(),
        "Capabilities": list(s.capabilities(), |c| Value::String(c.as_str().to_owned())),
        "Parameters": list(s.parameters(), |p| json!({
            "ParameterKey": p.parameter_key(),
            "ParameterValue": p.parameter_value(),
            "UsePreviousValue": p.use_previous_value(),
            "ResolvedValue": p.resolved_value(),
        })),
        "Outputs": list(s.outputs(), |o| json!({
            "OutputKey": o.output_key(),
            "OutputValue": o.output_value(),
            "Description": o.description(),
            "ExportName": o.export_name(),
        })),
        "ParentId": s.parent_id(),
        "RootId": s.root_id(),
        "DriftInformation": s.drift_information().map(|d| json!({
            "StackDriftStatus": e(d.stack_drift_status()),
            "LastCheckTimestamp": ts(d.last_check_timestamp()),
        })),
    })
}
