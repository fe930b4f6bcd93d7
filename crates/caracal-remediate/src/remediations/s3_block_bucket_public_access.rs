//! `AWS.S3.BlockBucketPublicAccess`: turns on all four settings of the bucket's public
//! access block, so neither ACLs nor policies can make it public.
//!
//! ```yaml
//! # in a policy's YAML
//! AutoRemediationID: AWS.S3.BlockBucketPublicAccess
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use caracal_aws::Clients;
use caracal_core::ResourceType;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk, is_true};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::sdk::{absent, aws_err};
use crate::target::Target;

/// See the module doc.
pub(crate) struct BlockBucketPublicAccess;

const FLAGS: [&str; 4] =
    ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"];

#[async_trait]
impl Fix for BlockBucketPublicAccess {
    const META: Meta = Meta {
        id: "AWS.S3.BlockBucketPublicAccess",
        resource_type: ResourceType::S3_BUCKET,
        description: "Turn on all four public access block settings of the bucket",
        risk: Risk::Medium,
        permissions: &["s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = absent(
            c.s3().get_public_access_block().bucket(&t.name).send().await,
            &["NoSuchPublicAccessBlockConfiguration"],
        )
        .map_err(aws_err("s3:GetPublicAccessBlock", t))?;
        let pab = out.and_then(|o| o.public_access_block_configuration).map(|p| {
            json!({
                "BlockPublicAcls": p.block_public_acls.unwrap_or(false),
                "IgnorePublicAcls": p.ignore_public_acls.unwrap_or(false),
                "BlockPublicPolicy": p.block_public_policy.unwrap_or(false),
                "RestrictPublicBuckets": p.restrict_public_buckets.unwrap_or(false),
            })
        });
        Ok(json!({ "PublicAccessBlockConfiguration": pab }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if FLAGS.iter().all(|f| is_true(state, &format!("/PublicAccessBlockConfiguration/{f}"))) {
            return Ok(Planned::compliant());
        }
        let all: serde_json::Map<String, Value> =
            FLAGS.iter().map(|f| ((*f).to_owned(), Value::Bool(true))).collect();
        let all = Value::Object(all);
        Ok(Planned::compliant()
            .call(
                "s3:PutPublicAccessBlock",
                json!({ "Bucket": t.name, "PublicAccessBlockConfiguration": all }),
            )
            .change(state, "PublicAccessBlockConfiguration", all))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        let flags: std::collections::BTreeMap<String, bool> =
            call.get("PublicAccessBlockConfiguration")?;
        let flag = |name: &str| flags.get(name).copied();
        c.s3()
            .put_public_access_block()
            .bucket(call.str("Bucket")?)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .set_block_public_acls(flag("BlockPublicAcls"))
                    .set_ignore_public_acls(flag("IgnorePublicAcls"))
                    .set_block_public_policy(flag("BlockPublicPolicy"))
                    .set_restrict_public_buckets(flag("RestrictPublicBuckets"))
                    .build(),
            )
            .send()
            .await
            .map_err(aws_err("s3:PutPublicAccessBlock", t))?;
        Ok(())
    }
}
