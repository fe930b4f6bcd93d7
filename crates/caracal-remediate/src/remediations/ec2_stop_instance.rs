//! `AWS.EC2.StopInstance`: stops a running instance (high risk: it interrupts the
//! workload; instance store data is lost). A stopped or terminating instance is left alone.
//!
//! ```yaml
//! AutoRemediationID: AWS.EC2.StopInstance
//! AutoRemediationParameters:
//!   force: false
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
use crate::sdk::{aws_err, not_found};
use crate::target::Target;

/// See the module doc.
pub(crate) struct StopInstance;

/// Parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    force: bool,
}

const AT_REST: [&str; 4] = ["stopping", "stopped", "shutting-down", "terminated"];

/// Reads an instance's DescribeInstances fields through `fields`, for the EC2 instance
/// remediations.
pub(crate) async fn describe_instance(
    c: &Clients,
    t: &Target,
    fields: impl FnOnce(aws_sdk_ec2::types::Instance) -> Value,
) -> Result<Value, Error> {
    let out = c
        .ec2()
        .describe_instances()
        .instance_ids(&t.name)
        .send()
        .await
        .map_err(aws_err("ec2:DescribeInstances", t))?;
    let instance = out
        .reservations
        .unwrap_or_default()
        .into_iter()
        .flat_map(|r| r.instances.unwrap_or_default())
        .next()
        .ok_or_else(|| {
            not_found("ec2:DescribeInstances", t, "InvalidInstanceID.NotFound", "instance")
        })?;
    Ok(fields(instance))
}

#[async_trait]
impl Fix for StopInstance {
    const META: Meta = Meta {
        id: "AWS.EC2.StopInstance",
        resource_type: ResourceType::EC2_INSTANCE,
        description: "Stop the instance (interrupts its workload)",
        risk: Risk::High,
        permissions: &["ec2:DescribeInstances", "ec2:StopInstances"],
        parameters: &[ParamSpec {
            name: "force",
            kind: ParamKind::Bool,
            default: Some("false"),
            required: false,
            description: "Force the stop without a clean OS shutdown",
        }],
    };
    type Params = Params;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        describe_instance(c, t, |i| {
            let state = i
                .state
                .map(|s| json!({ "Code": s.code, "Name": s.name.map(|n| n.as_str().to_owned()) }));
            json!({ "State": state })
        })
        .await
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        p: &Params,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if state["State"]["Name"].as_str().is_some_and(|n| AT_REST.contains(&n)) {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant()
            .call("ec2:StopInstances", json!({ "InstanceIds": [t.name], "Force": p.force }))
            .change(state, "State/Name", json!("stopped")))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.ec2()
            .stop_instances()
            .set_instance_ids(Some(call.get("InstanceIds")?))
            .force(call.get("Force")?)
            .send()
            .await
            .map_err(aws_err("ec2:StopInstances", t))?;
        Ok(())
    }
}
