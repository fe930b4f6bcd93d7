//! `AWS.S3.EnableBucketVersioning`: sets the bucket's versioning status to `Enabled`
//! (MFA delete is left as it is).
//!
//! ```yaml
//! AutoRemediationID: AWS.S3.EnableBucketVersioning
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
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
pub(crate) struct EnableBucketVersioning;

#[async_trait]
impl Fix for EnableBucketVersioning {
    const META: Meta = Meta {
        id: "AWS.S3.EnableBucketVersioning",
        resource_type: ResourceType::S3_BUCKET,
        description: "Enable versioning on the bucket",
        risk: Risk::Low,
        permissions: &["s3:GetBucketVersioning", "s3:PutBucketVersioning"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .s3()
            .get_bucket_versioning()
            .bucket(&t.name)
            .send()
            .await
            .map_err(aws_err("s3:GetBucketVersioning", t))?;
        Ok(json!({ "Versioning": out.status.map(|s| s.as_str().to_owned()) }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if state["Versioning"] == "Enabled" {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant()
            .call(
                "s3:PutBucketVersioning",
                json!({ "Bucket": t.name, "VersioningConfiguration": { "Status": "Enabled" } }),
            )
            .change(state, "Versioning", json!("Enabled")))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.s3()
            .put_bucket_versioning()
            .bucket(call.str("Bucket")?)
            .versioning_configuration(
                VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build(),
            )
            .send()
            .await
            .map_err(aws_err("s3:PutBucketVersioning", t))?;
        Ok(())
    }
}
