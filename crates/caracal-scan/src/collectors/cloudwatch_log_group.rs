//! `AWS.CloudWatch.LogGroup`: DescribeLogGroups (retention, KMS key, stored bytes and
//! metric filter count come with the listing), then ListTagsForResource per group. The
//! id is the group's ARN without the `:*` that DescribeLogGroups appends to `arn`. A
//! group whose tags cannot be read is kept, the failure listed under `caracal:errors`.

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::LogGroup;
use caracal_core::Resource;
use serde_json::json;

use super::{Collected, Collector, DetailErrors, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, e};

const TYPE: &str = "AWS.CloudWatch.LogGroup";

pub(crate) struct LogGroups;

#[async_trait]
impl Collector for LogGroups {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "logs", prefix: "log-group:" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["logs:DescribeLogGroups", "logs:ListTagsForResource"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let logs = scope.clients().logs();
        let mut groups = Vec::new();
        let mut pages = logs.describe_log_groups().into_paginator().send();
        while let Some(page) = pages.next().await {
            groups.extend(page.op("logs:DescribeLogGroups")?.log_groups().iter().cloned());
        }
        let results = scope
            .each(groups, |g| {
                let logs = logs.clone();
                async move {
                    let arn = group_arn(scope, &g);
                    let mut failed = DetailErrors::default();
                    let tags = failed.keep(
                        logs.list_tags_for_resource()
                            .resource_arn(&arn)
                            .send()
                            .await
                            .op("logs:ListTagsForResource")
                            .map(|o| o.tags.unwrap_or_default().into_iter().collect())
                            .map_err(|e| e.on(&arn)),
                    );
                    let mut r = group(scope, &g, arn);
                    r.tags = tags.unwrap_or_default();
                    Ok::<_, CollectError>(failed.finish(r))
                }
            })
            .await;
        Ok(Collected::from_described(results))
    }
}

/// The group's ARN: `logGroupArn` where the service gives it, else `arn` without `:*`.
fn group_arn(scope: &Scope, g: &LogGroup) -> String {
    if let Some(arn) = g.log_group_arn() {
        return arn.to_owned();
    }
    match g.arn() {
        Some(arn) => arn.strip_suffix(":*").unwrap_or(arn).to_owned(),
        None => scope.arn("logs", &format!("log-group:{}", g.log_group_name().unwrap_or_default())),
    }
}

fn group(scope: &Scope, g: &LogGroup, arn: String) -> Resource {
    let name = g.log_group_name().unwrap_or_default();
    let mut r = Resource::new(&arn, TYPE, scope.account_id(), scope.region());
    r.arn = Some(arn);
    r.name = Some(name.to_owned());
    r.time_created = g.creation_time().and_then(chrono::DateTime::from_timestamp_millis);
    let attributes = json!({
        "LogGroupName": name,
        "CreationTime": g.creation_time(),
        "RetentionInDays": g.retention_in_days(),
        "KmsKeyId": g.kms_key_id(),
        "StoredBytes": g.stored_bytes(),
        "MetricFilterCount": g.metric_filter_count(),
        "LogGroupClass": e(g.log_group_class()),
        "DataProtectionStatus": e(g.data_protection_status()),
    });
    if let serde_json::Value::Object(map) = attributes {
        r.attributes.extend(map);
    }
    r
}
