//! `AWS.S3.EnableBucketAccessLogging`: turns on server access logging into a target
//! bucket (which must grant the S3 log delivery group write access). A bucket that already
//! logs anywhere is left as it is.
//!
//! ```yaml
//! AutoRemediationID: AWS.S3.EnableBucketAccessLogging
//! AutoRemediationParameters:
//!   target_bucket: my-access-logs
//!   target_prefix: s3/   # default: "<bucket>/"
//! ```

use async_trait::async_trait;
use aws_sdk_s3::types::{BucketLoggingStatus, LoggingEnabled};
use caracal_aws::Clients;
use caracal_core::ResourceType;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Fix, Meta, Risk};
use crate::error::{Error, bad_param};
use crate::params::{ParamKind, ParamSpec};
use crate::plan::{ApiCall, Planned};
use crate::sdk::aws_err;
use crate::target::Target;

/// See the module doc.
pub(crate) struct EnableBucketAccessLogging;

/// Parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    target_bucket: String,
    target_prefix: Option<String>,
}

#[async_trait]
impl Fix for EnableBucketAccessLogging {
    const META: Meta = Meta {
        id: "AWS.S3.EnableBucketAccessLogging",
        resource_type: ResourceType::S3_BUCKET,
        description: "Enable server access logging into a target bucket",
        risk: Risk::Low,
        permissions: &["s3:GetBucketLogging", "s3:PutBucketLogging"],
        parameters: &[
            ParamSpec {
                name: "target_bucket",
                kind: ParamKind::String,
                default: None,
                required: true,
                description: "Bucket receiving the logs; it must allow S3 log delivery",
            },
            ParamSpec {
                name: "target_prefix",
                kind: ParamKind::String,
                default: None,
                required: false,
                description: "Key prefix of the log objects; unset means \"<bucket>/\"",
            },
        ],
    };
    type Params = Params;

    fn validate(p: &Params) -> Result<(), (&'static str, String)> {
        let ok = (3..=63).contains(&p.target_bucket.len())
            && p.target_bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if ok {
            Ok(())
        } else {
            Err(("target_bucket", format!("{:?} is not a bucket name", p.target_bucket)))
        }
    }

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .s3()
            .get_bucket_logging()
            .bucket(&t.name)
            .send()
            .await
            .map_err(aws_err("s3:GetBucketLogging", t))?;
        let policy = out
            .logging_enabled
            .map(|l| json!({ "TargetBucket": l.target_bucket, "TargetPrefix": l.target_prefix }));
        Ok(json!({ "LoggingPolicy": policy }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        p: &Params,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if state["LoggingPolicy"]["TargetBucket"].is_string() {
            return Ok(Planned::compliant());
        }
        let prefix = p.target_prefix.clone().unwrap_or_else(|| format!("{}/", t.name));
        let policy = json!({ "TargetBucket": p.target_bucket, "TargetPrefix": prefix });
        Ok(Planned::compliant()
            .call(
                "s3:PutBucketLogging",
                json!({ "Bucket": t.name, "BucketLoggingStatus": { "LoggingEnabled": policy } }),
            )
            .change(state, "LoggingPolicy", policy))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        let status: Value = call.get("BucketLoggingStatus")?;
        let l = &status["LoggingEnabled"];
        let enabled = LoggingEnabled::builder()
            .target_bucket(l["TargetBucket"].as_str().unwrap_or_default())
            .target_prefix(l["TargetPrefix"].as_str().unwrap_or_default())
            .build()
            .map_err(|e| bad_param(Self::META.id, "target_bucket", e.to_string()))?;
        c.s3()
            .put_bucket_logging()
            .bucket(call.str("Bucket")?)
            .bucket_logging_status(BucketLoggingStatus::builder().logging_enabled(enabled).build())
            .send()
            .await
            .map_err(aws_err("s3:PutBucketLogging", t))?;
        Ok(())
    }
}
