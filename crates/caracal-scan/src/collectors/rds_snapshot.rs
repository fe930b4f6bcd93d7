//! `AWS.RDS.Snapshot`: DescribeDBSnapshots for the account's manual and automated
//! snapshots (configuration and tags), then per manual snapshot
//! DescribeDBSnapshotAttributes for its `restore` attribute: the accounts it is shared
//! with, `all` meaning public. Automated snapshots cannot be shared, so they get an empty
//! list without a call. Attributes keep RDS's names, plus `DBSnapshotAttributes`
//! (`[{AttributeName, AttributeValues[]}]`, as the attribute call answers). A snapshot
//! whose attributes cannot be read is kept without them, the failure listed under
//! `caracal:errors`.

use async_trait::async_trait;
use aws_sdk_rds::types::DbSnapshot;
use caracal_core::Resource;
use serde_json::{Value, json};

use super::{Collected, Collector, Described, DetailErrors, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, ts};

const TYPE: &str = "AWS.RDS.Snapshot";

pub(crate) struct Snapshots;

#[async_trait]
impl Collector for Snapshots {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "rds", prefix: "snapshot:" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["rds:DescribeDBSnapshots", "rds:DescribeDBSnapshotAttributes"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let rds = scope.clients().rds();
        let mut snapshots = Vec::new();
        let mut pages = rds.describe_db_snapshots().into_paginator().send();
        while let Some(page) = pages.next().await {
            snapshots.extend(page.op("rds:DescribeDBSnapshots")?.db_snapshots().iter().cloned());
        }
        let rds = &rds;
        let results = scope
            .each(snapshots, |s| async move {
                let id = s.db_snapshot_identifier().unwrap_or_default().to_owned();
                let mut failed = DetailErrors::default();
                let shared = if s.snapshot_type() == Some("manual") {
                    failed.keep(
                        rds.describe_db_snapshot_attributes()
                            .db_snapshot_identifier(&id)
                            .send()
                            .await
                            .op("rds:DescribeDBSnapshotAttributes")
                            .map_err(|e| e.on(&id))
                            .map(|o| {
                                o.db_snapshot_attributes_result()
                                    .map(|r| {
                                        r.db_snapshot_attributes()
                                            .iter()
                                            .map(|a| {
                                                json!({
                                                    "AttributeName": a.attribute_name(),
                                                    "AttributeValues": a.attribute_values(),
                                                })
                                            })
                                            .collect::<Vec<_>>()
                                    })
                                    .unwrap_or_default()
                            }),
                    )
                } else {
                    Some(Vec::new())
                };
                let mut r = snapshot(scope, &s);
                if let Some(attributes) = shared {
                    r = r.with("DBSnapshotAttributes", attributes);
                }
                Ok::<Described, CollectError>(failed.finish(r))
            })
            .await;
        Ok(Collected::from_described(results))
    }
}

fn snapshot(scope: &Scope, s: &DbSnapshot) -> Resource {
    let name = s.db_snapshot_identifier().unwrap_or_default();
    let arn = s
        .db_snapshot_arn()
        .map_or_else(|| scope.arn("rds", &format!("snapshot:{name}")), str::to_owned);
    let mut r = Resource::new(&arn, TYPE, scope.account_id(), scope.region());
    r.arn = Some(arn);
    r.id = s.dbi_resource_id().map(str::to_owned);
    r.name = Some(name.to_owned());
    r.tags = s
        .tag_list()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
        .collect();
    r.time_created = created(s.snapshot_create_time());
    if let Value::Object(map) = attributes(s) {
        r.attributes.extend(map);
    }
    r
}

fn attributes(s: &DbSnapshot) -> Value {
    json!({
        "DBSnapshotIdentifier": s.db_snapshot_identifier(),
        "DBSnapshotArn": s.db_snapshot_arn(),
        "DBInstanceIdentifier": s.db_instance_identifier(),
        "DbiResourceId": s.dbi_resource_id(),
        "SnapshotCreateTime": ts(s.snapshot_create_time()),
        "SnapshotType": s.snapshot_type(),
        "Status": s.status(),
        "Engine": s.engine(),
        "EngineVersion": s.engine_version(),
        "AllocatedStorage": s.allocated_storage(),
        "AvailabilityZone": s.availability_zone(),
        "VpcId": s.vpc_id(),
        "Port": s.port(),
        "MasterUsername": s.master_username(),
        "Encrypted": s.encrypted().unwrap_or(false),
        "KmsKeyId": s.kms_key_id(),
        "StorageType": s.storage_type(),
        "IAMDatabaseAuthenticationEnabled": s.iam_database_authentication_enabled(),
        "SourceDBSnapshotIdentifier": s.source_db_snapshot_identifier(),
        "SourceRegion": s.source_region(),
    })
}
