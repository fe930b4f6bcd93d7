//! `AWS.GuardDuty.EnableDetector`: turns a suspended GuardDuty detector back on, with the
//! settings it kept. One UpdateDetector call; GuardDuty bills from then on.
//!
//! ```yaml
//! AutoRemediationID: AWS.GuardDuty.EnableDetector
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use caracal_aws::Clients;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::sdk::aws_err;
use crate::target::Target;

/// See the module doc.
pub(crate) struct EnableDetector;

#[async_trait]
impl Fix for EnableDetector {
    const META: Meta = Meta {
        id: "AWS.GuardDuty.EnableDetector",
        resource_type: "AWS.GuardDuty.Detector",
        description: "Turn the suspended GuardDuty detector back on",
        risk: Risk::Low,
        permissions: &["guardduty:GetDetector", "guardduty:UpdateDetector"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .guardduty()
            .get_detector()
            .detector_id(&t.name)
            .send()
            .await
            .map_err(aws_err("guardduty:GetDetector", t))?;
        let status = out.status.map(|s| s.as_str().to_owned());
        Ok(json!({ "DetectorId": t.name, "Status": status }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if state["Status"] == "ENABLED" {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant()
            .call("guardduty:UpdateDetector", json!({ "DetectorId": t.name, "Enable": true }))
            .change(state, "Status", json!("ENABLED")))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.guardduty()
            .update_detector()
            .detector_id(call.str("DetectorId")?)
            .enable(call.get("Enable")?)
            .send()
            .await
            .map_err(aws_err("guardduty:UpdateDetector", t))?;
        Ok(())
    }
}
