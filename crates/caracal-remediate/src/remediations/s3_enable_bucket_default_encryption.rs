//! `AWS.S3.EnableBucketDefaultEncryption`: sets the bucket's default encryption to SSE-S3
//! (`AES256`, the default) or SSE-KMS (`aws:kms`, optionally with a key).
//!
//! ```yaml
//! AutoRemediationID: AWS.S3.EnableBucketDefaultEncryption
//! AutoRemediationParameters:
//!   algorithm: aws:kms
//!   kms_key_id: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
//! ```

use async_trait::async_trait;
use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use caracal_aws::Clients;
use caracal_core::ResourceType;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Fix, Meta, Risk};
use crate::error::{Error, bad_param};
use crate::params::{ParamKind, ParamSpec};
use crate::plan::{ApiCall, Planned};
use crate::sdk::{absent, aws_err};
use crate::target::Target;

/// See the module doc.
pub(crate) struct EnableBucketDefaultEncryption;

/// Parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    algorithm: String,
    kms_key_id: Option<String>,
}

#[async_trait]
impl Fix for EnableBucketDefaultEncryption {
    const META: Meta = Meta {
        id: "AWS.S3.EnableBucketDefaultEncryption",
        resource_type: ResourceType::S3_BUCKET,
        description: "Set the bucket's default encryption to SSE-S3 (AES256) or SSE-KMS",
        risk: Risk::Low,
        permissions: &["s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"],
        parameters: &[
            ParamSpec {
                name: "algorithm",
                kind: ParamKind::String,
                default: Some(r#""AES256""#),
                required: false,
                description: "AES256 (SSE-S3) or aws:kms (SSE-KMS)",
            },
            ParamSpec {
                name: "kms_key_id",
                kind: ParamKind::String,
                default: None,
                required: false,
                description: "KMS key id or ARN for aws:kms; unset uses the aws/s3 key",
            },
        ],
    };
    type Params = Params;

    fn validate(p: &Params) -> Result<(), (&'static str, String)> {
        match (p.algorithm.as_str(), &p.kms_key_id) {
            ("AES256", None) | ("aws:kms", _) => Ok(()),
            ("AES256", Some(_)) => Err(("kms_key_id", "only valid with algorithm aws:kms".into())),
            (other, _) => Err(("algorithm", format!("{other:?} is not AES256 or aws:kms"))),
        }
    }

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = absent(
            c.s3().get_bucket_encryption().bucket(&t.name).send().await,
            &["ServerSideEncryptionConfigurationNotFoundError"],
        )
        .map_err(aws_err("s3:GetBucketEncryption", t))?;
        let rules: Vec<Value> = out
            .and_then(|o| o.server_side_encryption_configuration)
            .map(|c| c.rules)
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                let d = r.apply_server_side_encryption_by_default;
                json!({ "ApplyServerSideEncryptionByDefault": d.map(|d| json!({
                    "SSEAlgorithm": d.sse_algorithm.as_str(),
                    "KMSMasterKeyID": d.kms_master_key_id,
                })) })
            })
            .collect();
        Ok(json!({ "EncryptionRules": rules }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        p: &Params,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let rules = state["EncryptionRules"].as_array().cloned().unwrap_or_default();
        let satisfied = rules.iter().any(|r| {
            let d = &r["ApplyServerSideEncryptionByDefault"];
            d["SSEAlgorithm"] == p.algorithm.as_str()
                && p.kms_key_id.as_ref().is_none_or(|k| d["KMSMasterKeyID"] == k.as_str())
        });
        if satisfied {
            return Ok(Planned::compliant());
        }
        let mut default = json!({ "SSEAlgorithm": p.algorithm });
        if let Some(key) = &p.kms_key_id {
            default["KMSMasterKeyID"] = key.as_str().into();
        }
        let rules = json!([{ "ApplyServerSideEncryptionByDefault": default }]);
        Ok(Planned::compliant()
            .call(
                "s3:PutBucketEncryption",
                json!({ "Bucket": t.name, "ServerSideEncryptionConfiguration": { "Rules": rules } }),
            )
            .change(state, "EncryptionRules", rules))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        let conf: Value = call.get("ServerSideEncryptionConfiguration")?;
        let d = &conf["Rules"][0]["ApplyServerSideEncryptionByDefault"];
        let algorithm = d["SSEAlgorithm"].as_str().unwrap_or_default();
        let bad =
            |e: aws_sdk_s3::error::BuildError| bad_param(Self::META.id, "algorithm", e.to_string());
        let default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::from(algorithm))
            .set_kms_master_key_id(d["KMSMasterKeyID"].as_str().map(str::to_owned))
            .build()
            .map_err(bad)?;
        let conf = ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(default)
                    .build(),
            )
            .build()
            .map_err(bad)?;
        c.s3()
            .put_bucket_encryption()
            .bucket(call.str("Bucket")?)
            .server_side_encryption_configuration(conf)
            .send()
            .await
            .map_err(aws_err("s3:PutBucketEncryption", t))?;
        Ok(())
    }
}
