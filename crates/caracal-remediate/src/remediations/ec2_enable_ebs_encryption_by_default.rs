//! `AWS.EC2.EnableEbsEncryptionByDefault`: turns on EBS encryption by default in the
//! region (`<account>:<region>:AWS.EC2.RegionSettings`). New volumes are encrypted;
//! existing ones are not touched.
//!
//! ```yaml
//! AutoRemediationID: AWS.EC2.EnableEbsEncryptionByDefault
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use caracal_aws::Clients;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::sdk::aws_err;
use crate::target::{REGION_SETTINGS, Target};

/// See the module doc.
pub(crate) struct EnableEbsEncryptionByDefault;

#[async_trait]
impl Fix for EnableEbsEncryptionByDefault {
    const META: Meta = Meta {
        id: "AWS.EC2.EnableEbsEncryptionByDefault",
        resource_type: REGION_SETTINGS,
        description: "Turn on EBS encryption by default for new volumes in the region",
        risk: Risk::Low,
        permissions: &["ec2:GetEbsEncryptionByDefault", "ec2:EnableEbsEncryptionByDefault"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .ec2()
            .get_ebs_encryption_by_default()
            .send()
            .await
            .map_err(aws_err("ec2:GetEbsEncryptionByDefault", t))?;
        Ok(json!({ "EbsEncryptionByDefault": out.ebs_encryption_by_default.unwrap_or(false) }))
    }

    fn plan(
        &self,
        _: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if state["EbsEncryptionByDefault"] == true {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant().call("ec2:EnableEbsEncryptionByDefault", json!({})).change(
            state,
            "EbsEncryptionByDefault",
            json!(true),
        ))
    }

    async fn apply(&self, c: &Clients, t: &Target, _: &ApiCall) -> Result<(), Error> {
        c.ec2()
            .enable_ebs_encryption_by_default()
            .send()
            .await
            .map_err(aws_err("ec2:EnableEbsEncryptionByDefault", t))?;
        Ok(())
    }
}
