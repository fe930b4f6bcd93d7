//! `AWS.DynamoDB.Table`: ListTables, then per table DescribeTable, DescribeTimeToLive,
//! DescribeContinuousBackups and ListTagsOfResource.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::TableDescription;
use caracal_core::{Resource, ResourceType};
use serde_json::{Value, json};

use super::{Collected, Collector, Described, DetailErrors, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, e, list, ts};

pub(crate) struct Tables;

#[async_trait]
impl Collector for Tables {
    fn resource_type(&self) -> &'static str {
        ResourceType::DYNAMODB_TABLE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "dynamodb", prefix: "table/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "dynamodb:ListTables",
            "dynamodb:DescribeTable",
            "dynamodb:DescribeTimeToLive",
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:ListTagsOfResource",
        ]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let ddb = scope.clients().dynamodb();
        let mut names = Vec::new();
        let mut pages = ddb.list_tables().into_paginator().send();
        while let Some(page) = pages.next().await {
            names.extend(page.op("dynamodb:ListTables")?.table_names().iter().cloned());
        }
        let results = scope
            .each(names, |name| {
                let ddb = ddb.clone();
                async move { table(&ddb, scope, &name).await.map_err(|e| e.on(name)) }
            })
            .await;
        // A table deleted between ListTables and DescribeTable is simply not there.
        Ok(Collected::from_described(results.into_iter().filter_map(Result::transpose)))
    }
}

/// One table. `DescribeTable` is the table itself; a failed TTL, backups or tags call
/// keeps the table with that part absent (unknown, not null) and the failure noted.
async fn table(ddb: &Client, scope: &Scope, name: &str) -> Result<Option<Described>, CollectError> {
    let Some(t) = ddb
        .describe_table()
        .table_name(name)
        .send()
        .await
        .absent("dynamodb:DescribeTable", &["ResourceNotFoundException"])?
        .and_then(|o| o.table)
    else {
        return Ok(None);
    };
    let arn = t
        .table_arn()
        .map_or_else(|| scope.arn("dynamodb", &format!("table/{name}")), str::to_owned);
    let mut failed = DetailErrors::default();
    let ttl = failed.keep_fields(
        &["TimeToLiveDescription"],
        ddb.describe_time_to_live().table_name(name).send().await.op("dynamodb:DescribeTimeToLive"),
    );
    let backups = failed.keep_fields(
        &["ContinuousBackupsDescription"],
        ddb.describe_continuous_backups()
            .table_name(name)
            .send()
            .await
            .op("dynamodb:DescribeContinuousBackups"),
    );
    let tags = failed.keep(tags_of(ddb, &arn).await).unwrap_or_default();
    let mut r =
        Resource::new(&arn, ResourceType::DYNAMODB_TABLE, scope.account_id(), scope.region());
    r.arn = Some(arn);
    r.id = t.table_id().map(str::to_owned);
    r.name = Some(name.to_owned());
    r.tags = tags;
    r.time_created = created(t.creation_date_time());
    if let Value::Object(map) = description(&t) {
        r.attributes.extend(map);
    }
    if let Some(ttl) = ttl {
        r = r.with(
            "TimeToLiveDescription",
            ttl.time_to_live_description().map_or(Value::Null, |d| {
                json!({"TimeToLiveStatus": e(d.time_to_live_status()), "AttributeName": d.attribute_name()})
            }),
        );
    }
    if let Some(backups) = backups {
        r = r.with(
            "ContinuousBackupsDescription",
            backups.continuous_backups_description().map_or(Value::Null, |d| {
                json!({
                    "ContinuousBackupsStatus": d.continuous_backups_status().as_str(),
                    "PointInTimeRecoveryDescription": d.point_in_time_recovery_description().map(|p| json!({
                        "PointInTimeRecoveryStatus": e(p.point_in_time_recovery_status()),
                        "EarliestRestorableDateTime": ts(p.earliest_restorable_date_time()),
                        "LatestRestorableDateTime": ts(p.latest_restorable_date_time()),
                    })),
                })
            }),
        );
    }
    Ok(Some(failed.finish(r)))
}

/// Every tag of the table, all pages.
async fn tags_of(
    ddb: &Client,
    arn: &str,
) -> Result<std::collections::BTreeMap<String, String>, CollectError> {
    let mut tags = std::collections::BTreeMap::new();
    let mut token = None;
    loop {
        let out = ddb
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(token)
            .send()
            .await
            .op("dynamodb:ListTagsOfResource")?;
        tags.extend(out.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())));
        token = out.next_token;
        if token.is_none() {
            return Ok(tags);
        }
    }
}

fn description(t: &TableDescription) -> Value {
    json!({
        "TableName": t.table_name(),
        "TableArn": t.table_arn(),
        "TableId": t.table_id(),
        "TableStatus": e(t.table_status()),
        "CreationDateTime": ts(t.creation_date_time()),
        "ItemCount": t.item_count(),
        "TableSizeBytes": t.table_size_bytes(),
        "KeySchema": list(t.key_schema(), |k| json!({"AttributeName": k.attribute_name(), "KeyType": k.key_type().as_str()})),
        "AttributeDefinitions": list(t.attribute_definitions(), |a| json!({"AttributeName": a.attribute_name(), "AttributeType": a.attribute_type().as_str()})),
        "BillingModeSummary": t.billing_mode_summary().map(|b| json!({
            "BillingMode": e(b.billing_mode()),
            "LastUpdateToPayPerRequestDateTime": ts(b.last_update_to_pay_per_request_date_time()),
        })),
        "ProvisionedThroughput": t.provisioned_throughput().map(|p| json!({
            "ReadCapacityUnits": p.read_capacity_units(),
            "WriteCapacityUnits": p.write_capacity_units(),
        })),
        "SSEDescription": t.sse_description().map(|s| json!({
            "Status": e(s.status()),
            "SSEType": e(s.sse_type()),
            "KMSMasterKeyArn": s.kms_master_key_arn(),
        })),
        "StreamSpecification": t.stream_specification().map(|s| json!({
            "StreamEnabled": s.stream_enabled(),
            "StreamViewType": e(s.stream_view_type()),
        })),
        "LatestStreamArn": t.latest_stream_arn(),
        "GlobalSecondaryIndexes": list(t.global_secondary_indexes(), |g| json!({"IndexName": g.index_name(), "IndexStatus": e(g.index_status())})),
        "LocalSecondaryIndexes": list(t.local_secondary_indexes(), |l| json!({"IndexName": l.index_name()})),
        "DeletionProtectionEnabled": t.deletion_protection_enabled(),
        "TableClassSummary": t.table_class_summary().map(|c| json!({"TableClass": e(c.table_class())})),
    })
}
