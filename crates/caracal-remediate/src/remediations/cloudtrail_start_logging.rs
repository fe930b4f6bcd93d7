//! `AWS.CloudTrail.StartLogging`: starts logging on a trail that was stopped.
//!
//! ```yaml
//! AutoRemediationID: AWS.CloudTrail.StartLogging
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
use crate::sdk::aws_err;
use crate::target::Target;

/// See the module doc.
pub(crate) struct StartLogging;

#[async_trait]
impl Fix for StartLogging {
    const META: Meta = Meta {
        id: "AWS.CloudTrail.StartLogging",
        resource_type: ResourceType::CLOUDTRAIL,
        description: "Start logging on the trail",
        risk: Risk::Low,
        permissions: &["cloudtrail:GetTrailStatus", "cloudtrail:StartLogging"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .cloudtrail()
            .get_trail_status()
            .name(&t.name)
            .send()
            .await
            .map_err(aws_err("cloudtrail:GetTrailStatus", t))?;
        Ok(json!({ "Name": t.name, "Status": { "IsLogging": out.is_logging.unwrap_or(false) } }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if state["Status"]["IsLogging"] == true {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant().call("cloudtrail:StartLogging", json!({ "Name": t.name })).change(
            state,
            "Status/IsLogging",
            json!(true),
        ))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.cloudtrail()
            .start_logging()
            .name(call.str("Name")?)
            .send()
            .await
            .map_err(aws_err("cloudtrail:StartLogging", t))?;
        Ok(())
    }
}
