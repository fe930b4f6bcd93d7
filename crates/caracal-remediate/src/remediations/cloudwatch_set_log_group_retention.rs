//! `AWS.CloudWatch.SetLogGroupRetention`: gives a log group whose events expire too soon a
//! retention of at least `retention_in_days` (default 365). A group that keeps events
//! forever, or longer, already complies. One PutRetentionPolicy call.
//!
//! ```yaml
//! AutoRemediationID: AWS.CloudWatch.SetLogGroupRetention
//! AutoRemediationParameters: {retention_in_days: 365}
//! ```

use async_trait::async_trait;
use caracal_aws::Clients;
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
pub(crate) struct SetLogGroupRetention;

/// Parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    retention_in_days: i64,
}

/// The retention periods CloudWatch Logs accepts.
const ALLOWED_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

#[async_trait]
impl Fix for SetLogGroupRetention {
    const META: Meta = Meta {
        id: "AWS.CloudWatch.SetLogGroupRetention",
        resource_type: "AWS.CloudWatch.LogGroup",
        description: "Keep the log group's events at least N days",
        risk: Risk::Low,
        permissions: &["logs:DescribeLogGroups", "logs:PutRetentionPolicy"],
        parameters: &[ParamSpec {
            name: "retention_in_days",
            kind: ParamKind::Integer,
            default: Some("365"),
            required: false,
            description: "Minimum days events are kept; one of the periods CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, ... 3653)",
        }],
    };
    type Params = Params;

    fn validate(p: &Params) -> Result<(), (&'static str, String)> {
        if ALLOWED_DAYS.contains(&p.retention_in_days) {
            Ok(())
        } else {
            Err((
                "retention_in_days",
                format!("{} is not a CloudWatch Logs retention period", p.retention_in_days),
            ))
        }
    }

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .logs()
            .describe_log_groups()
            .log_group_name_prefix(&t.name)
            .send()
            .await
            .map_err(aws_err("logs:DescribeLogGroups", t))?;
        let group = out
            .log_groups
            .unwrap_or_default()
            .into_iter()
            .find(|g| g.log_group_name.as_deref() == Some(t.name.as_str()))
            .ok_or_else(|| {
                not_found("logs:DescribeLogGroups", t, "ResourceNotFoundException", "log group")
            })?;
        Ok(json!({ "LogGroupName": t.name, "RetentionInDays": group.retention_in_days }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        p: &Params,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        match state["RetentionInDays"].as_i64() {
            None => return Ok(Planned::compliant()),
            Some(days) if days >= p.retention_in_days => return Ok(Planned::compliant()),
            Some(_) => {}
        }
        Ok(Planned::compliant()
            .call(
                "logs:PutRetentionPolicy",
                json!({ "LogGroupName": t.name, "RetentionInDays": p.retention_in_days }),
            )
            .change(state, "RetentionInDays", json!(p.retention_in_days)))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        let days: i32 = call.get("RetentionInDays")?;
        c.logs()
            .put_retention_policy()
            .log_group_name(call.str("LogGroupName")?)
            .retention_in_days(days)
            .send()
            .await
            .map_err(aws_err("logs:PutRetentionPolicy", t))?;
        Ok(())
    }
}
