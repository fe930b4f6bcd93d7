//! `AWS.IAM.SetPasswordPolicy`: sets the account password policy to at least the CIS AWS
//! Foundations values (length 14, all character classes, reuse prevention 24, expiry 90
//! days). Never weakens: each setting becomes the stricter of the current one and the
//! parameter.
//!
//! ```yaml
//! AutoRemediationID: AWS.IAM.SetPasswordPolicy
//! AutoRemediationParameters:
//!   minimum_password_length: 16
//! ```

use async_trait::async_trait;
use caracal_aws::Clients;
use caracal_core::ResourceType;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Fix, Meta, Risk};
use crate::error::Error;
use crate::params::{ParamKind, ParamSpec};
use crate::plan::{ApiCall, Planned};
use crate::sdk::{absent, aws_err};
use crate::target::Target;

/// See the module doc.
pub(crate) struct SetPasswordPolicy;

/// Parameters, the CIS values by default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    minimum_password_length: i64,
    require_symbols: bool,
    require_numbers: bool,
    require_uppercase_characters: bool,
    require_lowercase_characters: bool,
    allow_users_to_change_password: bool,
    max_password_age: i64,
    password_reuse_prevention: i64,
}

const fn spec(
    name: &'static str,
    kind: ParamKind,
    default: &'static str,
    description: &'static str,
) -> ParamSpec {
    ParamSpec { name, kind, default: Some(default), required: false, description }
}

const FLAGS: [&str; 5] = [
    "RequireSymbols",
    "RequireNumbers",
    "RequireUppercaseCharacters",
    "RequireLowercaseCharacters",
    "AllowUsersToChangePassword",
];

#[async_trait]
impl Fix for SetPasswordPolicy {
    const META: Meta = Meta {
        id: "AWS.IAM.SetPasswordPolicy",
        resource_type: ResourceType::PASSWORD_POLICY,
        description: "Set the account password policy to at least the CIS values",
        risk: Risk::Low,
        permissions: &["iam:GetAccountPasswordPolicy", "iam:UpdateAccountPasswordPolicy"],
        parameters: &[
            spec("minimum_password_length", ParamKind::Integer, "14", "Minimum length (6-128)"),
            spec("require_symbols", ParamKind::Bool, "true", "Require a symbol"),
            spec("require_numbers", ParamKind::Bool, "true", "Require a digit"),
            spec(
                "require_uppercase_characters",
                ParamKind::Bool,
                "true",
                "Require an uppercase letter",
            ),
            spec(
                "require_lowercase_characters",
                ParamKind::Bool,
                "true",
                "Require a lowercase letter",
            ),
            spec(
                "allow_users_to_change_password",
                ParamKind::Bool,
                "true",
                "Let users change their own password",
            ),
            spec(
                "max_password_age",
                ParamKind::Integer,
                "90",
                "Days before a password expires (1-1095)",
            ),
            spec(
                "password_reuse_prevention",
                ParamKind::Integer,
                "24",
                "Previous passwords that cannot be reused (1-24)",
            ),
        ],
    };
    type Params = Params;

    fn validate(p: &Params) -> Result<(), (&'static str, String)> {
        let ranges = [
            ("minimum_password_length", p.minimum_password_length, 6, 128),
            ("max_password_age", p.max_password_age, 1, 1095),
            ("password_reuse_prevention", p.password_reuse_prevention, 1, 24),
        ];
        for (name, value, lo, hi) in ranges {
            if !(lo..=hi).contains(&value) {
                return Err((name, format!("{value} is outside {lo}-{hi}")));
            }
        }
        Ok(())
    }

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = absent(c.iam().get_account_password_policy().send().await, &["NoSuchEntity"])
            .map_err(aws_err("iam:GetAccountPasswordPolicy", t))?;
        let Some(p) = out.and_then(|o| o.password_policy) else {
            return Ok(json!({ "AnyExist": false }));
        };
        Ok(json!({
            "AnyExist": true,
            "MinimumPasswordLength": p.minimum_password_length,
            "RequireSymbols": p.require_symbols,
            "RequireNumbers": p.require_numbers,
            "RequireUppercaseCharacters": p.require_uppercase_characters,
            "RequireLowercaseCharacters": p.require_lowercase_characters,
            "AllowUsersToChangePassword": p.allow_users_to_change_password,
            "ExpirePasswords": p.expire_passwords,
            "MaxPasswordAge": p.max_password_age,
            "PasswordReusePrevention": p.password_reuse_prevention,
            "HardExpiry": p.hard_expiry,
        }))
    }

    fn plan(
        &self,
        _: &Target,
        state: &Value,
        p: &Params,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let int = |k: &str| state[k].as_i64();
        let flag = |k: &str| state[k] == true;
        let wanted = [
            p.require_symbols,
            p.require_numbers,
            p.require_uppercase_characters,
            p.require_lowercase_characters,
            p.allow_users_to_change_password,
        ];
        // The stricter of current and asked for, per setting.
        let length = int("MinimumPasswordLength").unwrap_or(0).max(p.minimum_password_length);
        let reuse = int("PasswordReusePrevention").unwrap_or(0).max(p.password_reuse_prevention);
        let age = match int("MaxPasswordAge") {
            Some(age) if age > 0 => age.min(p.max_password_age),
            _ => p.max_password_age,
        };
        let mut policy = json!({
            "MinimumPasswordLength": length,
            "MaxPasswordAge": age,
            "PasswordReusePrevention": reuse,
            "HardExpiry": flag("HardExpiry"),
        });
        for (name, want) in FLAGS.iter().zip(wanted) {
            policy[*name] = (want || flag(name)).into();
        }
        let unchanged = flag("AnyExist")
            && policy.as_object().into_iter().flatten().all(|(k, v)| &state[k.as_str()] == v);
        if unchanged {
            return Ok(Planned::compliant());
        }
        let mut planned = Planned::compliant()
            .call("iam:UpdateAccountPasswordPolicy", policy.clone())
            .change(state, "AnyExist", json!(true));
        for (k, v) in policy.as_object().into_iter().flatten() {
            planned = planned.change(state, k, v.clone());
        }
        Ok(planned)
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        let int = |k: &str| call.get::<i64>(k).map(|v| i32::try_from(v).unwrap_or(i32::MAX));
        c.iam()
            .update_account_password_policy()
            .minimum_password_length(int("MinimumPasswordLength")?)
            .max_password_age(int("MaxPasswordAge")?)
            .password_reuse_prevention(int("PasswordReusePrevention")?)
            .hard_expiry(call.get("HardExpiry")?)
            .require_symbols(call.get("RequireSymbols")?)
            .require_numbers(call.get("RequireNumbers")?)
            .require_uppercase_characters(call.get("RequireUppercaseCharacters")?)
            .require_lowercase_characters(call.get("RequireLowercaseCharacters")?)
            .allow_users_to_change_password(call.get("AllowUsersToChangePassword")?)
            .send()
            .await
            .map_err(aws_err("iam:UpdateAccountPasswordPolicy", t))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cis() -> Params {
        Params {
            minimum_password_length: 14,
            require_symbols: true,
            require_numbers: true,
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            allow_users_to_change_password: true,
            max_password_age: 90,
            password_reuse_prevention: 24,
        }
    }

    #[test]
    fn never_weakens_a_stricter_setting() {
        let t = Target::parse("123456789012::AWS.PasswordPolicy").unwrap();
        let state = json!({ "AnyExist": true, "MinimumPasswordLength": 20, "MaxPasswordAge": 30,
            "PasswordReusePrevention": 5, "RequireSymbols": false });
        let planned = SetPasswordPolicy.plan(&t, &state, &cis(), Utc::now()).unwrap();
        let call = &planned.calls[0].params;
        assert_eq!(call["MinimumPasswordLength"], 20);
        assert_eq!(call["MaxPasswordAge"], 30);
        assert_eq!(call["PasswordReusePrevention"], 24);
        assert_eq!(call["RequireSymbols"], true);
    }
}
