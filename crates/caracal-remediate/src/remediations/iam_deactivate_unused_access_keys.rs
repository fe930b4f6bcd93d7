//! `AWS.IAM.DeactivateUnusedAccessKeys`: deactivates (never deletes) a user's active
//! access keys not used for `unused_days` days (never-used keys count from creation).
//! Reactivating a key undoes it. One call per key.
//!
//! ```yaml
//! AutoRemediationID: AWS.IAM.DeactivateUnusedAccessKeys
//! AutoRemediationParameters:
//!   unused_days: 90
//! ```

use async_trait::async_trait;
use aws_sdk_iam::types::StatusType;
use caracal_aws::Clients;
use caracal_core::ResourceType;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Fix, Meta, Risk};
use crate::error::Error;
use crate::params::{ParamKind, ParamSpec};
use crate::plan::{ApiCall, Planned};
use crate::sdk::{aws_err, parse_time, time};
use crate::target::Target;

/// See the module doc.
pub(crate) struct DeactivateUnusedAccessKeys;

/// Parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    unused_days: i64,
}

/// Unused days must be at least 1 and at most ten years, for both IAM remediations.
pub(crate) fn validate_days(days: i64) -> Result<(), (&'static str, String)> {
    if (1..=3650).contains(&days) {
        Ok(())
    } else {
        Err(("unused_days", format!("{days} is outside 1-3650")))
    }
}

/// Whether `last` (or, never used, `created`) is at least `days` before `now`.
pub(crate) fn unused_since(last: &Value, created: &Value, days: i64, now: DateTime<Utc>) -> bool {
    parse_time(last)
        .or_else(|| parse_time(created))
        .is_some_and(|t| now - t >= Duration::days(days))
}

#[async_trait]
impl Fix for DeactivateUnusedAccessKeys {
    const META: Meta = Meta {
        id: "AWS.IAM.DeactivateUnusedAccessKeys",
        resource_type: ResourceType::IAM_USER,
        description: "Deactivate the user's access keys unused for N days",
        risk: Risk::Medium,
        permissions: &["iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:UpdateAccessKey"],
        parameters: &[ParamSpec {
            name: "unused_days",
            kind: ParamKind::Integer,
            default: Some("90"),
            required: false,
            description: "Days without use after which an active key is deactivated (1-3650)",
        }],
    };
    type Params = Params;

    fn validate(p: &Params) -> Result<(), (&'static str, String)> {
        validate_days(p.unused_days)
    }

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let iam = c.iam();
        let out = iam
            .list_access_keys()
            .user_name(&t.name)
            .send()
            .await
            .map_err(aws_err("iam:ListAccessKeys", t))?;
        let mut keys = Vec::new();
        for k in out.access_key_metadata {
            let Some(id) = k.access_key_id else { continue };
            let used = iam
                .get_access_key_last_used()
                .access_key_id(&id)
                .send()
                .await
                .map_err(aws_err("iam:GetAccessKeyLastUsed", t))?;
            keys.push(json!({
                "AccessKeyId": id,
                "Status": k.status.map(|s| s.as_str().to_owned()),
                "CreateDate": time(k.create_date.as_ref()),
                "LastUsedDate": time(used.access_key_last_used.as_ref().and_then(|u| u.last_used_date.as_ref())),
            }));
        }
        keys.sort_by(|a, b| a["AccessKeyId"].as_str().cmp(&b["AccessKeyId"].as_str()));
        Ok(json!({ "UserName": t.name, "AccessKeys": keys }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        p: &Params,
        now: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let mut planned = Planned::compliant();
        let mut after = Vec::new();
        for mut key in state["AccessKeys"].as_array().cloned().unwrap_or_default() {
            if key["Status"] == "Active"
                && unused_since(&key["LastUsedDate"], &key["CreateDate"], p.unused_days, now)
            {
                planned = planned.call(
                    "iam:UpdateAccessKey",
                    json!({ "UserName": t.name, "AccessKeyId": key["AccessKeyId"], "Status": "Inactive" }),
                );
                key["Status"] = "Inactive".into();
            }
            after.push(key);
        }
        if planned.calls.is_empty() {
            return Ok(planned);
        }
        Ok(planned.change(state, "AccessKeys", json!(after)))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.iam()
            .update_access_key()
            .user_name(call.str("UserName")?)
            .access_key_id(call.str("AccessKeyId")?)
            .status(StatusType::from(call.str("Status")?.as_str()))
            .send()
            .await
            .map_err(aws_err("iam:UpdateAccessKey", t))?;
        Ok(())
    }
}
