//! `AWS.Config.Recorder` (per region): DescribeConfigurationRecorders with
//! DescribeConfigurationRecorderStatus. A region without a recorder yields no resource;
//! `AWS.Config.Recorder.Meta` records which regions were looked at.

use async_trait::async_trait;
use aws_sdk_config::Client;
use caracal_core::{Resource, ResourceType};
use serde_json::{Value, json};

use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, e, ts};

pub(crate) struct Recorders;

#[async_trait]
impl Collector for Recorders {
    fn resource_type(&self) -> &'static str {
        ResourceType::CONFIG_RECORDER
    }

    fn id_shape(&self) -> IdShape {
        IdShape::RegionSingleton
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["config:DescribeConfigurationRecorders", "config:DescribeConfigurationRecorderStatus"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let recorders = scope.shared().recorders(scope, scope.region()).await?;
        let resources = recorders
            .iter()
            .cloned()
            .map(|(name, attributes)| {
                let mut r = Resource::new(
                    recorder_id(scope.account_id(), scope.region()),
                    ResourceType::CONFIG_RECORDER,
                    scope.account_id(),
                    scope.region(),
                );
                r.name = Some(name);
                if let Value::Object(mut map) = attributes {
                    map.remove("Name"); // the envelope's `Name`
                    r.attributes.extend(map);
                }
                r
            })
            .collect();
        Ok(Collected { resources, ..Default::default() })
    }
}

/// A recorder's resource id, `<account>:<region>:AWS.Config.Recorder` (RESOURCES.md).
///
/// It has no recorder name: AWS allows one customer managed recorder per region, but
/// service-linked recorders (DescribeConfigurationRecorders lists them too) would share it.
pub(super) fn recorder_id(account_id: &str, region: &str) -> String {
    format!("{account_id}:{region}:{}", ResourceType::CONFIG_RECORDER)
}

/// The region's recorders as `(name, {Name, RecordingGroup, RecordingMode, RoleARN,
/// Status})`.
pub(super) async fn describe(config: &Client) -> Result<Vec<(String, Value)>, CollectError> {
    let recorders = config
        .describe_configuration_recorders()
        .send()
        .await
        .op("config:DescribeConfigurationRecorders")?;
    let statuses = config
        .describe_configuration_recorder_status()
        .send()
        .await
        .op("config:DescribeConfigurationRecorderStatus")?;
    Ok(recorders
        .configuration_recorders()
        .iter()
        .map(|rec| {
            let name = rec.name().unwrap_or_default().to_owned();
            let status = statuses
                .configuration_recorders_status()
                .iter()
                .find(|s| s.name() == Some(name.as_str()));
            let value = json!({
                "Name": name,
                "RoleARN": rec.role_arn(),
                "RecordingGroup": rec.recording_group().map(|g| json!({
                    "AllSupported": g.all_supported(),
                    "IncludeGlobalResourceTypes": g.include_global_resource_types(),
                    "ResourceTypes": g.resource_types().iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                    "ExclusionByResourceTypes": g.exclusion_by_resource_types().map(|x| {
                        x.resource_types().iter().map(|t| t.as_str()).collect::<Vec<_>>()
                    }),
                    "RecordingStrategy": g.recording_strategy().and_then(|s| s.use_only()).map(|u| u.as_str()),
                })),
                "RecordingMode": rec.recording_mode().map(|m| json!({
                    "RecordingFrequency": m.recording_frequency().as_str(),
                    "RecordingModeOverrides": m.recording_mode_overrides().iter().map(|o| json!({
                        "ResourceTypes": o.resource_types().iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                        "RecordingFrequency": o.recording_frequency().as_str(),
                    })).collect::<Vec<_>>(),
                })),
                "Status": status.map(|s| json!({
                    "Name": s.name(),
                    "Recording": s.recording(),
                    "LastStatus": e(s.last_status()),
                    "LastErrorCode": s.last_error_code(),
                    "LastErrorMessage": s.last_error_message(),
                    "LastStartTime": ts(s.last_start_time()),
                    "LastStopTime": ts(s.last_stop_time()),
                    "LastStatusChangeTime": ts(s.last_status_change_time()),
                })),
            });
            (name, value)
        })
        .collect())
}
