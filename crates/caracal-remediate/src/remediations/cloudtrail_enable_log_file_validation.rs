//! `AWS.CloudTrail.EnableLogFileValidation`: turns on log file integrity validation
//! (signed digest files) for the trail.
//!
//! ```yaml
//! AutoRemediationID: AWS.CloudTrail.EnableLogFileValidation
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use caracal_aws::Clients;
use caracal_core::ResourceType;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::sdk::{aws_err, not_found};
use crate::target::Target;

/// See the module doc.
pub(crate) struct EnableLogFileValidation;

#[async_trait]
impl Fix for EnableLogFileValidation {
    const META: Meta = Meta {
        id: "AWS.CloudTrail.EnableLogFileValidation",
        resource_type: ResourceType::CLOUDTRAIL,
        description: "Enable log file integrity validation on the trail",
        risk: Risk::Low,
        permissions: &["cloudtrail:DescribeTrails", "cloudtrail:UpdateTrail"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .cloudtrail()
            .describe_trails()
            .trail_name_list(&t.name)
            .send()
            .await
            .map_err(aws_err("cloudtrail:DescribeTrails", t))?;
        let trail = out.trail_list.unwrap_or_default().into_iter().next().ok_or_else(|| {
            not_found("cloudtrail:DescribeTrails", t, "TrailNotFoundException", "trail")
        })?;
        Ok(
            json!({ "Name": t.name, "LogFileValidationEnabled": trail.log_file_validation_enabled.unwrap_or(false) }),
        )
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if state["LogFileValidationEnabled"] == true {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant()
            .call(
                "cloudtrail:UpdateTrail",
                json!({ "Name": t.name, "EnableLogFileValidation": true }),
            )
            .change(state, "LogFileValidationEnabled", json!(true)))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.cloudtrail()
            .update_trail()
            .name(call.str("Name")?)
            .enable_log_file_validation(call.get("EnableLogFileValidation")?)
            .send()
            .await
            .map_err(aws_err("cloudtrail:UpdateTrail", t))?;
        Ok(())
    }
}
