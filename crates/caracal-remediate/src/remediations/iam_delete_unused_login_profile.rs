//! `AWS.IAM.DeleteUnusedLoginProfile`: deletes a user's console password (login profile)
//! when it has not been used for `unused_days` days (never used: counted from its
//! creation). The user's access keys are untouched; a new password can be set later.
//!
//! ```yaml
//! AutoRemediationID: AWS.IAM.DeleteUnusedLoginProfile
//! AutoRemediationParameters:
//!   unused_days: 90
//! ```

use async_trait::async_trait;
use caracal_aws::Clients;
use caracal_core::ResourceType;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::iam_deactivate_unused_access_keys::{unused_since, validate_days};
use super::{Fix, Meta, Risk};
use crate::error::Error;
use crate::params::{ParamKind, ParamSpec};
use crate::plan::{ApiCall, Planned};
use crate::sdk::{absent, aws_err, time};
use crate::target::Target;

/// See the module doc.
pub(crate) struct DeleteUnusedLoginProfile;

/// Parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    unused_days: i64,
}

#[async_trait]
impl Fix for DeleteUnusedLoginProfile {
    const META: Meta = Meta {
        id: "AWS.IAM.DeleteUnusedLoginProfile",
        resource_type: ResourceType::IAM_USER,
        description: "Delete the user's console password when unused for N days",
        risk: Risk::High,
        permissions: &["iam:GetUser", "iam:GetLoginProfile", "iam:DeleteLoginProfile"],
        parameters: &[ParamSpec {
            name: "unused_days",
            kind: ParamKind::Integer,
            default: Some("90"),
            required: false,
            description: "Days without a console sign-in after which the password is deleted (1-3650)",
        }],
    };
    type Params = Params;

    fn validate(p: &Params) -> Result<(), (&'static str, String)> {
        validate_days(p.unused_days)
    }

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let iam = c.iam();
        let user =
            iam.get_user().user_name(&t.name).send().await.map_err(aws_err("iam:GetUser", t))?;
        let last_used = time(user.user.as_ref().and_then(|u| u.password_last_used.as_ref()));
        let profile =
            absent(iam.get_login_profile().user_name(&t.name).send().await, &["NoSuchEntity"])
                .map_err(aws_err("iam:GetLoginProfile", t))?
                .and_then(|o| o.login_profile)
                .map(|p| json!({ "CreateDate": time(Some(&p.create_date)) }));
        Ok(json!({ "UserName": t.name, "PasswordLastUsed": last_used, "LoginProfile": profile }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        p: &Params,
        now: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let profile = &state["LoginProfile"];
        if profile.is_null()
            || !unused_since(&state["PasswordLastUsed"], &profile["CreateDate"], p.unused_days, now)
        {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant()
            .call("iam:DeleteLoginProfile", json!({ "UserName": t.name }))
            .change(state, "LoginProfile", Value::Null))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.iam()
            .delete_login_profile()
            .user_name(call.str("UserName")?)
            .send()
            .await
            .map_err(aws_err("iam:DeleteLoginProfile", t))?;
        Ok(())
    }
}
