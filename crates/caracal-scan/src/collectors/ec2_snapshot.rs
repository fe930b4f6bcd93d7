//! `AWS.EC2.Snapshot`: the account's own EBS snapshots (DescribeSnapshots, owner `self`),
//! each with its `createVolumePermission` attribute (DescribeSnapshotAttribute), so a
//! policy can tell a snapshot shared with `all` or with other accounts. The id is the
//! snapshot ARN, which carries no account (`arn:aws:ec2:<region>::snapshot/<id>`).

use async_trait::async_trait;
use aws_sdk_ec2::types::{CreateVolumePermission, Snapshot};
use caracal_core::Resource;
use serde_json::{Value, json};

use super::ec2::{merge, name_tag, tags};
use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{created, e, list, ts};

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
        // Shared with the volumes' collector: described once per scan and region.
        let snapshots = scope.shared().snapshots(scope).await?;
        let results = snapshots.iter().map(|(s, permissions)| {
            permissions.as_ref().map(|p| snapshot(scope, s, p)).map_err(Clone::clone)
        });
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
