//! `AWS.IAM.DetachUserAdminPolicy`: detaches an admin managed policy
//! (`AdministratorAccess` by default) from the user. Group and inline policies are not
//! touched.
//!
//! ```yaml
//! AutoRemediationID: AWS.IAM.DetachUserAdminPolicy
//! AutoRemediationParameters:
//!   policy_arn: arn:aws:iam::aws:policy/AdministratorAccess
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
use crate::sdk::aws_err;
use crate::target::Target;

/// See the module doc.
pub(crate) struct DetachUserAdminPolicy;

/// Parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    policy_arn: String,
}

#[async_trait]
impl Fix for DetachUserAdminPolicy {
    const META: Meta = Meta {
        id: "AWS.IAM.DetachUserAdminPolicy",
        resource_type: ResourceType::IAM_USER,
        description: "Detach an admin managed policy (AdministratorAccess) from the user",
        risk: Risk::High,
        permissions: &["iam:ListAttachedUserPolicies", "iam:DetachUserPolicy"],
        parameters: &[ParamSpec {
            name: "policy_arn",
            kind: ParamKind::String,
            default: Some(r#""arn:aws:iam::aws:policy/AdministratorAccess""#),
            required: false,
            description: "ARN of the managed policy to detach",
        }],
    };
    type Params = Params;

    fn validate(p: &Params) -> Result<(), (&'static str, String)> {
        let ok = p.policy_arn.starts_with("arn:") && p.policy_arn.contains(":policy/");
        if ok {
            Ok(())
        } else {
            Err(("policy_arn", format!("{:?} is not a policy ARN", p.policy_arn)))
        }
    }

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .iam()
            .list_attached_user_policies()
            .user_name(&t.name)
            .send()
            .await
            .map_err(aws_err("iam:ListAttachedUserPolicies", t))?;
        let mut arns: Vec<String> = out
            .attached_policies
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| p.policy_arn)
            .collect();
        arns.sort();
        Ok(json!({ "UserName": t.name, "ManagedPolicyARNs": arns }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        p: &Params,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let arns: Vec<Value> = state["ManagedPolicyARNs"].as_array().cloned().unwrap_or_default();
        if !arns.iter().any(|a| a == p.policy_arn.as_str()) {
            return Ok(Planned::compliant());
        }
        let kept: Vec<Value> = arns.into_iter().filter(|a| a != p.policy_arn.as_str()).collect();
        Ok(Planned::compliant()
            .call("iam:DetachUserPolicy", json!({ "UserName": t.name, "PolicyArn": p.policy_arn }))
            .change(state, "ManagedPolicyARNs", json!(kept)))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.iam()
            .detach_user_policy()
            .user_name(call.str("UserName")?)
            .policy_arn(call.str("PolicyArn")?)
            .send()
            .await
            .map_err(aws_err("iam:DetachUserPolicy", t))?;
        Ok(())
    }
}
