//! `AWS.SQS.RemovePublicPolicyStatements`: rewrites the queue's access policy without the
//! statements that let any principal in unconditionally (`Principal: *`); when none
//! would be left, removes the policy (the owner keeps IAM-based access). One
//! SetQueueAttributes call.
//!
//! ```yaml
//! AutoRemediationID: AWS.SQS.RemovePublicPolicyStatements
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use aws_sdk_sqs::types::QueueAttributeName;
use caracal_aws::Clients;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::resource_policy;
use crate::sdk::aws_err;
use crate::target::Target;

/// See the module doc.
pub(crate) struct RemovePublicPolicyStatements;

#[async_trait]
impl Fix for RemovePublicPolicyStatements {
    const META: Meta = Meta {
        id: "AWS.SQS.RemovePublicPolicyStatements",
        resource_type: "AWS.SQS.Queue",
        description: "Remove the queue policy statements that let any principal use the queue",
        risk: Risk::Medium,
        permissions: &["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let sqs = c.sqs();
        let url = sqs
            .get_queue_url()
            .queue_name(&t.name)
            .queue_owner_aws_account_id(&t.account_id)
            .send()
            .await
            .map_err(aws_err("sqs:GetQueueUrl", t))?
            .queue_url
            .unwrap_or_default();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::Policy)
            .send()
            .await
            .map_err(aws_err("sqs:GetQueueAttributes", t))?
            .attributes
            .unwrap_or_default();
        let text = attrs.get(&QueueAttributeName::Policy).map(String::as_str);
        let policy =
            resource_policy::parse_read(text, "sqs:GetQueueAttributes", t, "the queue policy")?;
        Ok(json!({ "QueueUrl": url, "Policy": policy }))
    }

    fn plan(
        &self,
        _: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let policy = &state["Policy"];
        if !resource_policy::statements(policy).iter().any(resource_policy::is_public) {
            return Ok(Planned::compliant());
        }
        let after = resource_policy::without_public(policy).unwrap_or(Value::Null);
        let text = if after.is_null() { String::new() } else { after.to_string() };
        Ok(Planned::compliant()
            .call(
                "sqs:SetQueueAttributes",
                json!({ "QueueUrl": state["QueueUrl"], "Policy": text }),
            )
            .change(state, "Policy", after))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.sqs()
            .set_queue_attributes()
            .queue_url(call.str("QueueUrl")?)
            .attributes(QueueAttributeName::Policy, call.str("Policy")?)
            .send()
            .await
            .map_err(aws_err("sqs:SetQueueAttributes", t))?;
        Ok(())
    }
}
