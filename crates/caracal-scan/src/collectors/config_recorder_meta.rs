//! `AWS.Config.Recorder.Meta` (per account): every scanned region's recorders, how many
//! record global resources, and the regions looked at, so "a recorder in every region"
//! can be checked although a region without one yields no `AWS.Config.Recorder`.

use async_trait::async_trait;
use caracal_core::resource::GLOBAL_REGION;
use caracal_core::{Resource, ResourceType};
use serde_json::Value;

use super::config_recorder::describe;
use super::{Collected, Collector, ListingScope, Scope};
use crate::error::CollectError;

pub(crate) struct RecorderMeta;

#[async_trait]
impl Collector for RecorderMeta {
    fn resource_type(&self) -> &'static str {
        ResourceType::CONFIG_RECORDER_META
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["config:DescribeConfigurationRecorders", "config:DescribeConfigurationRecorderStatus"]
    }

    fn listing_scope(&self) -> ListingScope {
        ListingScope::Global
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let regions = scope.regions().to_vec();
        let per_region = scope
            .each(regions.clone(), |region| async move {
                describe(&scope.clients_in(&region).config()).await.map(|r| (region, r))
            })
            .await;
        let mut recorders = Vec::new();
        for result in per_region {
            let (region, found) = result?;
            for (_, mut value) in found {
                if let Value::Object(map) = &mut value {
                    map.insert("Region".into(), Value::String(region.clone()));
                }
                recorders.push(value);
            }
        }
        let global = recorders
            .iter()
            .filter(|r| r["RecordingGroup"]["IncludeGlobalResourceTypes"] == Value::Bool(true))
            .count();
        let id = format!("{}::{}", scope.account_id(), ResourceType::CONFIG_RECORDER_META);
        let r = Resource::new(
            id,
            ResourceType::CONFIG_RECORDER_META,
            scope.account_id(),
            GLOBAL_REGION,
        )
        .with("GlobalRecorderCount", global)
        .with("Recorders", recorders)
        .with("Regions", regions);
        Ok(Collected { resources: vec![r], errors: Vec::new() })
    }
}
