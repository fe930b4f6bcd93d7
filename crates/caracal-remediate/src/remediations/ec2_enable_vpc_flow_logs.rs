//! `AWS.EC2.EnableVpcFlowLogs`: creates a flow log for a VPC that has none, delivering to
//! an S3 bucket (default) or a CloudWatch Logs group (which needs a delivery role).
//! CreateFlowLogs reports per-resource failures in its answer rather than as an error;
//! they are turned into errors here.
//!
//! ```yaml
//! AutoRemediationID: AWS.EC2.EnableVpcFlowLogs
//! AutoRemediationParameters:
//!   log_destination: arn:aws:s3:::my-flow-logs
//!   traffic_type: REJECT
//! ```

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, FlowLogsResourceType, LogDestinationType, TrafficType};
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
pub(crate) struct EnableVpcFlowLogs;

/// Parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    log_destination: String,
    log_destination_type: String,
    traffic_type: String,
    deliver_logs_permission_arn: Option<String>,
}

#[async_trait]
impl Fix for EnableVpcFlowLogs {
    const META: Meta = Meta {
        id: "AWS.EC2.EnableVpcFlowLogs",
        resource_type: ResourceType::EC2_VPC,
        description: "Create a flow log for the VPC, to S3 or CloudWatch Logs",
        risk: Risk::Low,
        permissions: &["ec2:DescribeFlowLogs", "ec2:CreateFlowLogs"],
        parameters: &[
            ParamSpec {
                name: "log_destination",
                kind: ParamKind::String,
                default: None,
                required: true,
                description: "ARN of the S3 bucket (or folder) or CloudWatch Logs group",
            },
            ParamSpec {
                name: "log_destination_type",
                kind: ParamKind::String,
                default: Some(r#""s3""#),
                required: false,
                description: "s3 or cloud-watch-logs",
            },
            ParamSpec {
                name: "traffic_type",
                kind: ParamKind::String,
                default: Some(r#""REJECT""#),
                required: false,
                description: "ACCEPT, REJECT or ALL",
            },
            ParamSpec {
                name: "deliver_logs_permission_arn",
                kind: ParamKind::String,
                default: None,
                required: false,
                description: "IAM role ARN CloudWatch Logs delivery assumes (cloud-watch-logs only)",
            },
        ],
    };
    type Params = Params;

    fn validate(p: &Params) -> Result<(), (&'static str, String)> {
        if !["ACCEPT", "REJECT", "ALL"].contains(&p.traffic_type.as_str()) {
            return Err((
                "traffic_type",
                format!("{:?} is not ACCEPT, REJECT or ALL", p.traffic_type),
            ));
        }
        let prefix = match p.log_destination_type.as_str() {
            "s3" => "arn:aws:s3:::",
            "cloud-watch-logs" => "arn:aws:logs:",
            other => {
                return Err((
                    "log_destination_type",
                    format!("{other:?} is not s3 or cloud-watch-logs"),
                ));
            }
        };
        if !p.log_destination.starts_with(prefix) {
            return Err((
                "log_destination",
                format!("{:?} is not an ARN starting {prefix}", p.log_destination),
            ));
        }
        match (p.log_destination_type.as_str(), &p.deliver_logs_permission_arn) {
            ("cloud-watch-logs", None) => {
                Err(("deliver_logs_permission_arn", "required for cloud-watch-logs".into()))
            }
            _ => Ok(()),
        }
    }

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .ec2()
            .describe_flow_logs()
            .filter(Filter::builder().name("resource-id").values(&t.name).build())
            .send()
            .await
            .map_err(aws_err("ec2:DescribeFlowLogs", t))?;
        let logs: Vec<Value> = out
            .flow_logs
            .unwrap_or_default()
            .into_iter()
            .map(|f| {
                json!({
                    "FlowLogId": f.flow_log_id,
                    "FlowLogStatus": f.flow_log_status,
                    "TrafficType": f.traffic_type.map(|v| v.as_str().to_owned()),
                    "LogDestinationType": f.log_destination_type.map(|v| v.as_str().to_owned()),
                    "LogDestination": f.log_destination,
                })
            })
            .collect();
        Ok(json!({ "FlowLogs": logs }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        p: &Params,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if state["FlowLogs"].as_array().is_some_and(|a| !a.is_empty()) {
            return Ok(Planned::compliant());
        }
        let mut call = json!({
            "ResourceIds": [t.name],
            "ResourceType": "VPC",
            "TrafficType": p.traffic_type,
            "LogDestinationType": p.log_destination_type,
            "LogDestination": p.log_destination,
        });
        if let Some(role) = &p.deliver_logs_permission_arn {
            call["DeliverLogsPermissionArn"] = role.as_str().into();
        }
        let expected = json!([{
            "TrafficType": p.traffic_type,
            "LogDestinationType": p.log_destination_type,
            "LogDestination": p.log_destination,
        }]);
        Ok(Planned::compliant()
            .call("ec2:CreateFlowLogs", call)
            .change(state, "FlowLogs", expected))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        let out = c
            .ec2()
            .create_flow_logs()
            .set_resource_ids(Some(call.get("ResourceIds")?))
            .resource_type(FlowLogsResourceType::from(call.str("ResourceType")?.as_str()))
            .traffic_type(TrafficType::from(call.str("TrafficType")?.as_str()))
            .log_destination_type(LogDestinationType::from(
                call.str("LogDestinationType")?.as_str(),
            ))
            .log_destination(call.str("LogDestination")?)
            .set_deliver_logs_permission_arn(call.get("DeliverLogsPermissionArn")?)
            .send()
            .await
            .map_err(aws_err("ec2:CreateFlowLogs", t))?;
        if let Some(failed) = out.unsuccessful.unwrap_or_default().into_iter().next() {
            let e = failed.error;
            return Err(Error::Aws {
                operation: "ec2:CreateFlowLogs".into(),
                resource_id: t.resource_id.clone(),
                code: e.as_ref().and_then(|e| e.code.clone()),
                message: e.and_then(|e| e.message).unwrap_or_else(|| "unsuccessful".into()),
            });
        }
        Ok(())
    }
}
