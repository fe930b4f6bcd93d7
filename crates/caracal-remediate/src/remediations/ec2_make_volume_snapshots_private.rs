//! `AWS.EC2.MakeVolumeSnapshotsPrivate`: removes the `all` group from the create-volume
//! permission of every snapshot of the volume (the scanner reports snapshots under their
//! volume, `Snapshots[].CreateVolumePermissions`). One call per public snapshot.
//!
//! ```yaml
//! AutoRemediationID: AWS.EC2.MakeVolumeSnapshotsPrivate
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, OperationType, SnapshotAttributeName};
use caracal_aws::Clients;
use caracal_core::ResourceType;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::sdk::aws_err;
use crate::target::Target;

/// See the module doc.
pub(crate) struct MakeVolumeSnapshotsPrivate;

fn is_public(snapshot: &Value) -> bool {
    snapshot["CreateVolumePermissions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["Group"] == "all")
}

#[async_trait]
impl Fix for MakeVolumeSnapshotsPrivate {
    const META: Meta = Meta {
        id: "AWS.EC2.MakeVolumeSnapshotsPrivate",
        resource_type: ResourceType::EC2_VOLUME,
        description: "Remove public create-volume permission from every snapshot of the volume",
        risk: Risk::Medium,
        permissions: &[
            "ec2:DescribeSnapshots",
            "ec2:DescribeSnapshotAttribute",
            "ec2:ModifySnapshotAttribute",
        ],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let ec2 = c.ec2();
        let out = ec2
            .describe_snapshots()
            .owner_ids("self")
            .filters(Filter::builder().name("volume-id").values(&t.name).build())
            .send()
            .await
            .map_err(aws_err("ec2:DescribeSnapshots", t))?;
        let mut snapshots = Vec::new();
        for id in out.snapshots.unwrap_or_default().into_iter().filter_map(|s| s.snapshot_id) {
            let attr = ec2
                .describe_snapshot_attribute()
                .snapshot_id(&id)
                .attribute(SnapshotAttributeName::CreateVolumePermission)
                .send()
                .await
                .map_err(aws_err("ec2:DescribeSnapshotAttribute", t))?;
            let perms: Vec<Value> = attr
                .create_volume_permissions
                .unwrap_or_default()
                .into_iter()
                .map(|p| json!({ "Group": p.group.map(|g| g.as_str().to_owned()), "UserId": p.user_id }))
                .collect();
            snapshots.push(json!({ "SnapshotId": id, "CreateVolumePermissions": perms }));
        }
        snapshots.sort_by(|a, b| a["SnapshotId"].as_str().cmp(&b["SnapshotId"].as_str()));
        Ok(json!({ "Snapshots": snapshots }))
    }

    fn plan(
        &self,
        _: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let snapshots = state["Snapshots"].as_array().cloned().unwrap_or_default();
        let mut planned = Planned::compliant();
        let mut after = Vec::new();
        for mut s in snapshots {
            if is_public(&s) {
                planned = planned.call(
                    "ec2:ModifySnapshotAttribute",
                    json!({
                        "SnapshotId": s["SnapshotId"],
                        "Attribute": "createVolumePermission",
                        "OperationType": "remove",
                        "GroupNames": ["all"],
                    }),
                );
                let kept: Vec<Value> = s["CreateVolumePermissions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["Group"] != "all")
                    .cloned()
                    .collect();
                s["CreateVolumePermissions"] = json!(kept);
            }
            after.push(s);
        }
        if planned.calls.is_empty() {
            return Ok(planned);
        }
        Ok(planned.change(state, "Snapshots", json!(after)))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.ec2()
            .modify_snapshot_attribute()
            .snapshot_id(call.str("SnapshotId")?)
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .operation_type(OperationType::Remove)
            .set_group_names(Some(call.get("GroupNames")?))
            .send()
            .await
            .map_err(aws_err("ec2:ModifySnapshotAttribute", t))?;
        Ok(())
    }
}
