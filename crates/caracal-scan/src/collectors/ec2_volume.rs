//! `AWS.EC2.Volume`: DescribeVolumes, plus the account's own snapshots of each volume
//! (DescribeSnapshots once per region) with their `createVolumePermission` attribute,
//! read once per scan for this collector and `AWS.EC2.Snapshot`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::Snapshot;
use caracal_core::{Resource, ResourceType};
use serde_json::{Value, json};

use super::ec2::{merge, name_tag, tags};
use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, e, list, ts};

pub(crate) struct Volumes;

#[async_trait]
impl Collector for Volumes {
    fn resource_type(&self) -> &'static str {
        ResourceType::EC2_VOLUME
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "ec2", prefix: "volume/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["ec2:DescribeVolumes", "ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let ec2 = scope.clients().ec2();
        // Shared with the snapshots' collector: described once per scan and region. A
        // snapshot whose permissions cannot be read fails its volume, not the listing.
        let permissions = scope.shared().snapshots(scope).await?;
        let mut by_volume: HashMap<String, Vec<Result<Value, CollectError>>> = HashMap::new();
        for (s, perms) in permissions.iter() {
            let value = perms.as_ref().map(|p| snapshot(s, p)).map_err(Clone::clone);
            by_volume.entry(s.volume_id().unwrap_or_default().to_owned()).or_default().push(value);
        }

        let mut results = Vec::new();
        let mut pages = ec2.describe_volumes().into_paginator().send();
        while let Some(page) = pages.next().await {
            for v in page.op("ec2:DescribeVolumes")?.volumes() {
                let Some(id) = v.volume_id() else { continue };
                let snaps: Result<Vec<Value>, CollectError> =
                    by_volume.remove(id).unwrap_or_default().into_iter().collect();
                let snaps = match snaps {
                    Ok(s) => s,
                    Err(e) => {
                        results.push(Err(e));
                        continue;
                    }
                };
                let arn = scope.arn("ec2", &format!("volume/{id}"));
                let mut r = Resource::new(
                    &arn,
                    ResourceType::EC2_VOLUME,
                    scope.account_id(),
                    scope.region(),
                );
                r.arn = Some(arn);
                r.id = Some(id.to_owned());
                r.name = name_tag(v.tags());
                r.tags = tags(v.tags());
                r.time_created = created(v.create_time());
                merge(
                    &mut r,
                    json!({
                        "VolumeId": id,
                        "Attachments": list(v.attachments(), |a| json!({
                            "AttachTime": ts(a.attach_time()),
                            "DeleteOnTermination": a.delete_on_termination(),
                            "Device": a.device(),
                            "InstanceId": a.instance_id(),
                            "State": e(a.state()),
                            "VolumeId": a.volume_id(),
                        })),
                        "AvailabilityZone": v.availability_zone(),
                        "CreateTime": ts(v.create_time()),
                        "Encrypted": v.encrypted().unwrap_or(false),
                        "Iops": v.iops(),
                        "KmsKeyId": v.kms_key_id(),
                        "MultiAttachEnabled": v.multi_attach_enabled(),
                        "Size": v.size(),
                        "SnapshotId": v.snapshot_id(),
                        "State": e(v.state()),
                        "Throughput": v.throughput(),
                        "VolumeType": e(v.volume_type()),
                        "Snapshots": snaps,
                    }),
                );
                results.push(Ok(r));
            }
        }
        Ok(Collected::from_results(results))
    }
}

fn snapshot(s: &Snapshot, permissions: &[aws_sdk_ec2::types::CreateVolumePermission]) -> Value {
    json!({
        "SnapshotId": s.snapshot_id(),
        "Description": s.description(),
        "Encrypted": s.encrypted(),
        "KmsKeyId": s.kms_key_id(),
        "OwnerId": s.owner_id(),
        "StartTime": ts(s.start_time()),
        "State": e(s.state()),
        "VolumeSize": s.volume_size(),
        "CreateVolumePermissions": list(permissions, |p| json!({"Group": e(p.group()), "UserId": p.user_id()})),
    })
}
