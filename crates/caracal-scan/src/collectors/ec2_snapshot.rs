//! `AWS.EC2.Snapshot`: the account's own EBS snapshots (DescribeSnapshots, owner `self`),
//! each with its `createVolumePermission` attribute (DescribeSnapshotAttribute), so a
//! policy can tell a snapshot shared with `all` or with other accounts. The id is the
//! snapshot ARN, which carries no account (`arn:aws:ec2:<region>::snapshot/<id>`).

use async_trait::async_trait;
use aws_sdk_ec2::types::{CreateVolumePermission, Snapshot, SnapshotAttributeName};
use caracal_core::Resource;
use serde_json::{Value, json};

use super::ec2::{merge, name_tag, tags};
use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, e, list, ts};

pub(crate) struct Snapshots;

#[async_trait]
impl Collector for Snapshots {
    fn resource_type(&self) -> &'static str {
        "AWS.EC2.Snapshot"
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "ec2", prefix: "snapshot/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let ec2 = scope.clients().ec2();
        let mut snapshots: Vec<Snapshot> = Vec::new();
        let mut pages = ec2.describe_snapshots().owner_ids("self").into_paginator().send();
        while let Some(page) = pages.next().await {
            snapshots.extend(page.op("ec2:DescribeSnapshots")?.snapshots().iter().cloned());
        }
        let results = scope
            .each(snapshots, |s| {
                let ec2 = ec2.clone();
                async move {
                    let id = s.snapshot_id().unwrap_or_default().to_owned();
                    let permissions = ec2
                        .describe_snapshot_attribute()
                        .snapshot_id(&id)
                        .attribute(SnapshotAttributeName::CreateVolumePermission)
                        .send()
                        .await
                        .op("ec2:DescribeSnapshotAttribute")
                        .map_err(|e| e.on(&id))?;
                    Ok(snapshot(scope, &s, permissions.create_volume_permissions()))
                }
            })
            .await;
        Ok(Collected::from_results(results))
    }
}

fn snapshot(scope: &Scope, s: &Snapshot, permissions: &[CreateVolumePermission]) -> Resource {
    let id = s.snapshot_id().unwrap_or_default();
    let arn = format!("arn:aws:ec2:{}::snapshot/{id}", scope.region());
    let mut r = Resource::new(&arn, "AWS.EC2.Snapshot", scope.account_id(), scope.region());
    r.arn = Some(arn);
    r.id = Some(id.to_owned());
    r.name = name_tag(s.tags());
    r.tags = tags(s.tags());
    r.time_created = created(s.start_time());
    merge(&mut r, attributes(s, permissions));
    r
}

fn attributes(s: &Snapshot, permissions: &[CreateVolumePermission]) -> Value {
    json!({
        "SnapshotId": s.snapshot_id(),
        "Description": s.description(),
        "Encrypted": s.encrypted().unwrap_or(false),
        "KmsKeyId": s.kms_key_id(),
        "OwnerId": s.owner_id(),
        "OwnerAlias": s.owner_alias(),
        "Progress": s.progress(),
        "StartTime": ts(s.start_time()),
        "State": e(s.state()),
        "StateMessage": s.state_message(),
        "StorageTier": e(s.storage_tier()),
        "VolumeId": s.volume_id(),
        "VolumeSize": s.volume_size(),
        "CreateVolumePermissions": list(permissions, |p| json!({"Group": e(p.group()), "UserId": p.user_id()})),
    })
}
