//! `AWS.Config.StartRecorder`: starts the region's stopped AWS Config recorder
//! (`<account>:<region>:AWS.Config.Recorder`). A region without a recorder is refused as
//! not applicable: creating one needs a role and a delivery channel chosen by a person.
//!
//! ```yaml
//! AutoRemediationID: AWS.Config.StartRecorder
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
pub(crate) struct StartRecorder;

#[async_trait]
impl Fix for StartRecorder {
    const META: Meta = Meta {
        id: "AWS.Config.StartRecorder",
        resource_type: ResourceType::CONFIG_RECORDER,
        description: "Start the region's stopped AWS Config recorder",
        risk: Risk::Low,
        permissions: &[
            "config:DescribeConfigurationRecorderStatus",
            "config:StartConfigurationRecorder",
        ],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .config()
            .describe_configuration_recorder_status()
            .send()
            .await
            .map_err(aws_err("config:DescribeConfigurationRecorderStatus", t))?;
        let status = out
            .configuration_recorders_status
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(|s| json!({ "Name": s.name, "Recording": s.recording }));
        Ok(json!({ "Status": status }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let status = &state["Status"];
        if status.is_null() {
            return Err(Error::NotApplicable {
                resource_id: t.resource_id.clone(),
                reason: format!("no Config recorder is defined in {}", t.region),
            });
        }
        if status["Recording"] == true {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant()
            .call(
                "config:StartConfigurationRecorder",
                json!({ "ConfigurationRecorderName": status["Name"] }),
            )
            .change(state, "Status/Recording", json!(true)))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.config()
            .start_configuration_recorder()
            .configuration_recorder_name(call.str("ConfigurationRecorderName")?)
            .send()
            .await
            .map_err(aws_err("config:StartConfigurationRecorder", t))?;
        Ok(())
    }
}
