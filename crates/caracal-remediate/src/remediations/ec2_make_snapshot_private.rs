//! `AWS.EC2.MakeSnapshotPrivate`: removes the `all` group from an EBS snapshot's
//! create-volume permission, so no other account can restore it. Accounts it is shared
//! with by id keep their access. One call.
//!
//! ```yaml
//! AutoRemediationID: AWS.EC2.MakeSnapshotPrivate
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use aws_sdk_ec2::types::{OperationType, SnapshotAttributeName};
use caracal_aws::Clients;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::sdk::aws_err;
use crate::target::Target;

/// See the module doc.
pub(crate) struct MakeSnapshotPrivate;

#[async_trait]
impl Fix for MakeSnapshotPrivate {
    const META: Meta = Meta {
        id: "AWS.EC2.MakeSnapshotPrivate",
        resource_type: "AWS.EC2.Snapshot",
        description: "Remove the public (all) create-volume permission from the EBS snapshot",
        risk: Risk::Medium,
        permissions: &["ec2:DescribeSnapshotAttribute", "ec2:ModifySnapshotAttribute"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let attr = c
            .ec2()
            .describe_snapshot_attribute()
            .snapshot_id(&t.name)
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .send()
            .await
            .map_err(aws_err("ec2:DescribeSnapshotAttribute", t))?;
        let mut perms: Vec<Value> = attr
            .create_volume_permissions
            .unwrap_or_default()
            .into_iter()
            .map(
                |p| json!({ "Group": p.group.map(|g| g.as_str().to_owned()), "UserId": p.user_id }),
            )
            .collect();
        perms.sort_by_key(|p| p.to_string());
        Ok(json!({ "SnapshotId": t.name, "CreateVolumePermissions": perms }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let perms = state["CreateVolumePermissions"].as_array().cloned().unwrap_or_default();
        if !perms.iter().any(|p| p["Group"] == "all") {
            return Ok(Planned::compliant());
        }
        let kept: Vec<Value> = perms.into_iter().filter(|p| p["Group"] != "all").collect();
        Ok(Planned::compliant()
            .call(
                "ec2:ModifySnapshotAttribute",
                json!({
                    "SnapshotId": t.name,
                    "Attribute": "createVolumePermission",
                    "OperationType": "remove",
                    "GroupNames": ["all"],
                }),
            )
            .change(state, "CreateVolumePermissions", json!(kept)))
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
