//! `AWS.EC2.RequireImdsV2`: makes the instance metadata service require session tokens
//! (IMDSv2), so SSRF-style IMDSv1 requests stop working. An instance whose metadata
//! endpoint is disabled already complies.
//!
//! ```yaml
//! AutoRemediationID: AWS.EC2.RequireImdsV2
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use aws_sdk_ec2::types::{HttpTokensState, InstanceMetadataEndpointState};
use caracal_aws::Clients;
use caracal_core::ResourceType;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::ec2_stop_instance::describe_instance;
use super::{Fix, Meta, NoParams, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::sdk::aws_err;
use crate::target::Target;

/// See the module doc.
pub(crate) struct RequireImdsV2;

#[async_trait]
impl Fix for RequireImdsV2 {
    const META: Meta = Meta {
        id: "AWS.EC2.RequireImdsV2",
        resource_type: ResourceType::EC2_INSTANCE,
        description: "Require IMDSv2 session tokens for the instance metadata service",
        risk: Risk::Medium,
        permissions: &["ec2:DescribeInstances", "ec2:ModifyInstanceMetadataOptions"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        describe_instance(c, t, |i| {
            let m = i.metadata_options.map(|m| {
                json!({
                    "HttpTokens": m.http_tokens.map(|v| v.as_str().to_owned()),
                    "HttpEndpoint": m.http_endpoint.map(|v| v.as_str().to_owned()),
                })
            });
            json!({ "MetadataOptions": m })
        })
        .await
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let m = &state["MetadataOptions"];
        if m["HttpTokens"] == "required" || m["HttpEndpoint"] == "disabled" {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant()
            .call(
                "ec2:ModifyInstanceMetadataOptions",
                json!({ "InstanceId": t.name, "HttpTokens": "required", "HttpEndpoint": "enabled" }),
            )
            .change(state, "MetadataOptions/HttpTokens", json!("required")))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.ec2()
            .modify_instance_metadata_options()
            .instance_id(call.str("InstanceId")?)
            .http_tokens(HttpTokensState::from(call.str("HttpTokens")?.as_str()))
            .http_endpoint(InstanceMetadataEndpointState::from(call.str("HttpEndpoint")?.as_str()))
            .send()
            .await
            .map_err(aws_err("ec2:ModifyInstanceMetadataOptions", t))?;
        Ok(())
    }
}
