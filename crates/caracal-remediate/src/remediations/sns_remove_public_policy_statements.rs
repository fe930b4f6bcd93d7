//! `AWS.SNS.RemovePublicPolicyStatements`: rewrites the topic's access policy without the
//! statements that let any principal in unconditionally (`Principal: *`). A topic always
//! has a policy: when none would be left, the new one lets only the owning account manage
//! and publish. One SetTopicAttributes call.
//!
//! ```yaml
//! AutoRemediationID: AWS.SNS.RemovePublicPolicyStatements
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
use crate::sdk::aws_err;
use crate::target::Target;

/// See the module doc.
pub(crate) struct RemovePublicPolicyStatements;

/// The policy left when every statement was public: the owning account only.
fn owner_only(t: &Target) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "caracal-owner-only",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{}:root", t.account_id)},
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic", "SNS:Publish",
            ],
            "Resource": t.resource_id,
        }],
    })
}

#[async_trait]
impl Fix for RemovePublicPolicyStatements {
    const META: Meta = Meta {
        id: "AWS.SNS.RemovePublicPolicyStatements",
        resource_type: "AWS.SNS.Topic",
        description: "Remove the topic policy statements that let any principal use the topic",
        risk: Risk::Medium,
        permissions: &["sns:GetTopicAttributes", "sns:SetTopicAttributes"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let attrs = c
            .sns()
            .get_topic_attributes()
            .topic_arn(&t.resource_id)
            .send()
            .await
            .map_err(aws_err("sns:GetTopicAttributes", t))?
            .attributes
            .unwrap_or_default();
        let policy = resource_policy::parse_read(
            attrs.get("Policy").map(String::as_str),
            "sns:GetTopicAttributes",
            t,
            "the topic policy",
        )?;
        Ok(json!({ "TopicArn": t.resource_id, "Policy": policy }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let policy = &state["Policy"];
        if !resource_policy::statements(policy).iter().any(resource_policy::is_public) {
            return Ok(Planned::compliant());
        }
        let after = resource_policy::without_public(policy).unwrap_or_else(|| owner_only(t));
        Ok(Planned::compliant()
            .call(
                "sns:SetTopicAttributes",
                json!({
                    "TopicArn": t.resource_id,
                    "AttributeName": "Policy",
                    "AttributeValue": after.to_string(),
                }),
            )
            .change(state, "Policy", after))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.sns()
            .set_topic_attributes()
            .topic_arn(call.str("TopicArn")?)
            .attribute_name(call.str("AttributeName")?)
            .attribute_value(call.str("AttributeValue")?)
            .send()
            .await
            .map_err(aws_err("sns:SetTopicAttributes", t))?;
        Ok(())
    }
}
