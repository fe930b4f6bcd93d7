//! `AWS.Lambda.RemovePublicPermissions`: removes every statement of the function's
//! resource policy that lets any principal in without a condition (`Principal: *`),
//! one RemovePermission call per statement id. Statements for named accounts and
//! services, and conditioned ones, stay.
//!
//! ```yaml
//! AutoRemediationID: AWS.Lambda.RemovePublicPermissions
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use caracal_aws::Clients;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::resource_policy;
use crate::sdk::{absent, aws_err};
use crate::target::Target;

/// See the module doc.
pub(crate) struct RemovePublicPermissions;

#[async_trait]
impl Fix for RemovePublicPermissions {
    const META: Meta = Meta {
        id: "AWS.Lambda.RemovePublicPermissions",
        resource_type: "AWS.Lambda.Function",
        description: "Remove the function policy statements that let any principal invoke or manage it",
        risk: Risk::Medium,
        permissions: &["lambda:GetPolicy", "lambda:RemovePermission"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = absent(
            c.lambda().get_policy().function_name(&t.name).send().await,
            &["ResourceNotFoundException"],
        )
        .map_err(aws_err("lambda:GetPolicy", t))?;
        let text = out.and_then(|o| o.policy);
        let policy = resource_policy::parse_read(
            text.as_deref(),
            "lambda:GetPolicy",
            t,
            "the function policy",
        )?;
        Ok(json!({ "FunctionName": t.name, "Policy": policy }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let public: Vec<Value> = resource_policy::statements(&state["Policy"])
            .into_iter()
            .filter(resource_policy::is_public)
            .collect();
        if public.is_empty() {
            return Ok(Planned::compliant());
        }
        let mut planned = Planned::compliant();
        for statement in &public {
            let Some(sid) = statement["Sid"].as_str().filter(|s| !s.is_empty()) else {
                return Err(Error::NotApplicable {
                    resource_id: t.resource_id.clone(),
                    reason: "a public statement has no Sid, so RemovePermission cannot name it"
                        .into(),
                });
            };
            planned = planned.call(
                "lambda:RemovePermission",
                json!({ "FunctionName": t.name, "StatementId": sid }),
            );
        }
        let after = resource_policy::without_public(&state["Policy"]).unwrap_or(Value::Null);
        Ok(planned.change(state, "Policy", after))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.lambda()
            .remove_permission()
            .function_name(call.str("FunctionName")?)
            .statement_id(call.str("StatementId")?)
            .send()
            .await
            .map_err(aws_err("lambda:RemovePermission", t))?;
        Ok(())
    }
}
