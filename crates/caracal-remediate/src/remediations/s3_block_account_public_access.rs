//! `AWS.S3.BlockAccountPublicAccess`: turns on all four settings of the account-level S3
//! public access block, which override every bucket's ACLs and policies. High risk: a
//! bucket that serves the public on purpose (a static website) stops doing so. One
//! PutPublicAccessBlock call.
//!
//! ```yaml
//! AutoRemediationID: AWS.S3.BlockAccountPublicAccess
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
use caracal_aws::Clients;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::sdk::{absent, aws_err};
use crate::target::Target;

/// See the module doc.
pub(crate) struct BlockAccountPublicAccess;

const SETTINGS: [&str; 4] =
    ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"];

#[async_trait]
impl Fix for BlockAccountPublicAccess {
    const META: Meta = Meta {
        id: "AWS.S3.BlockAccountPublicAccess",
        resource_type: "AWS.S3.AccountSettings",
        description: "Turn on all four account-level S3 public access block settings",
        risk: Risk::High,
        permissions: &["s3:GetAccountPublicAccessBlock", "s3:PutAccountPublicAccessBlock"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = absent(
            c.s3control().get_public_access_block().account_id(&t.account_id).send().await,
            &["NoSuchPublicAccessBlockConfiguration"],
        )
        .map_err(aws_err("s3:GetAccountPublicAccessBlock", t))?;
        let config = out.and_then(|o| o.public_access_block_configuration).map(|b| {
            json!({
                "BlockPublicAcls": b.block_public_acls.unwrap_or(false),
                "IgnorePublicAcls": b.ignore_public_acls.unwrap_or(false),
                "BlockPublicPolicy": b.block_public_policy.unwrap_or(false),
                "RestrictPublicBuckets": b.restrict_public_buckets.unwrap_or(false),
            })
        });
        Ok(json!({ "PublicAccessBlockConfiguration": config }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let config = &state["PublicAccessBlockConfiguration"];
        if SETTINGS.iter().all(|s| config[*s] == true) {
            return Ok(Planned::compliant());
        }
        let all_on: Value = SETTINGS.iter().map(|s| ((*s).to_owned(), Value::Bool(true))).collect();
        Ok(Planned::compliant()
            .call(
                "s3:PutAccountPublicAccessBlock",
                json!({ "AccountId": t.account_id, "PublicAccessBlockConfiguration": all_on }),
            )
            .change(state, "PublicAccessBlockConfiguration", all_on))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        let config = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(true)
            .restrict_public_buckets(true)
            .build();
        c.s3control()
            .put_public_access_block()
            .account_id(call.str("AccountId")?)
            .public_access_block_configuration(config)
            .send()
            .await
            .map_err(aws_err("s3:PutAccountPublicAccessBlock", t))?;
        Ok(())
    }
}
