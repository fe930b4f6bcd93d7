//! `AWS.EC2.MakeAmiPrivate`: removes the `all` group from an owned AMI's launch
//! permissions, so only the owner and explicitly shared accounts can launch it.
//!
//! ```yaml
//! AutoRemediationID: AWS.EC2.MakeAmiPrivate
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use aws_sdk_ec2::types::{LaunchPermission, LaunchPermissionModifications, PermissionGroup};
use caracal_aws::Clients;
use caracal_core::ResourceType;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::sdk::{aws_err, not_found};
use crate::target::Target;

/// See the module doc.
pub(crate) struct MakeAmiPrivate;

#[async_trait]
impl Fix for MakeAmiPrivate {
    const META: Meta = Meta {
        id: "AWS.EC2.MakeAmiPrivate",
        resource_type: ResourceType::EC2_AMI,
        description: "Remove public launch permission from the AMI",
        risk: Risk::Medium,
        permissions: &["ec2:DescribeImages", "ec2:ModifyImageAttribute"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .ec2()
            .describe_images()
            .image_ids(&t.name)
            .send()
            .await
            .map_err(aws_err("ec2:DescribeImages", t))?;
        let image =
            out.images.unwrap_or_default().into_iter().next().ok_or_else(|| {
                not_found("ec2:DescribeImages", t, "InvalidAMIID.NotFound", "image")
            })?;
        Ok(json!({ "ImageId": t.name, "Public": image.public.unwrap_or(false) }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if state["Public"] != true {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant()
            .call(
                "ec2:ModifyImageAttribute",
                json!({ "ImageId": t.name, "LaunchPermission": { "Remove": [{ "Group": "all" }] } }),
            )
            .change(state, "Public", json!(false)))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.ec2()
            .modify_image_attribute()
            .image_id(call.str("ImageId")?)
            .launch_permission(
                LaunchPermissionModifications::builder()
                    .remove(LaunchPermission::builder().group(PermissionGroup::All).build())
                    .build(),
            )
            .send()
            .await
            .map_err(aws_err("ec2:ModifyImageAttribute", t))?;
        Ok(())
    }
}
