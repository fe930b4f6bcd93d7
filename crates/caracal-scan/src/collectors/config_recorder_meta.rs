//! `AWS.Config.Recorder.Meta` (per account): every scanned region's recorders, how many
//! record global resources, and the regions looked at, so "a recorder in every region"
//! can be checked although a region without one yields no `AWS.Config.Recorder`.
//!
//! Panther's fields: `Recorders` (the recorders' `AWS.Config.Recorder` resource ids) and
//! `GlobalRecorderCount` (recorders with `AllSupported` and `IncludeGlobalResourceTypes`).
//! caracal adds `Regions` and `RecorderDetails` (each recorder's describe shape plus its
//! `Region` and `ResourceId`), which the bundled all-regions policy reads.

use async_trait::async_trait;
use caracal_core::resource::GLOBAL_REGION;
use caracal_core::{Resource, ResourceType};
use serde_json::Value;

use super::config_recorder::{describe, recorder_id};
use super::{Collected, Collector, IdShape, ListingScope, Scope};
use crate::error::CollectError;

pub(crate) struct RecorderMeta;

#[async_trait]
impl Collector for RecorderMeta {
    fn resource_type(&self) -> &'static str {
        ResourceType::CONFIG_RECORDER_META
    }

    fn id_shape(&self) -> IdShape {
        IdShape::AccountSingleton
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
        let mut ids = Vec::new();
        let mut details = Vec::new();
        for result in per_region {
            let (region, found) = result?;
            for (_, mut value) in found {
                let id = recorder_id(scope.account_id(), &region);
                if let Value::Object(map) = &mut value {
                    map.insert("Region".into(), Value::String(region.clone()));
                    map.insert("ResourceId".into(), Value::String(id.clone()));
                }
                ids.push(id);
                details.push(value);
            }
        }
        let global = details.iter().filter(|r| records_global(r)).count();
        let id = format!("{}::{}", scope.account_id(), ResourceType::CONFIG_RECORDER_META);
        let mut r = Resource::new(
            id,
            ResourceType::CONFIG_RECORDER_META,
            scope.account_id(),
            GLOBAL_REGION,
        );
        r.name = Some(ResourceType::CONFIG_RECORDER_META.to_owned());
        let r = r
            .with("GlobalRecorderCount", global)
            .with("Recorders", ids)
            .with("RecorderDetails", details)
            .with("Regions", regions);
        Ok(Collected { resources: vec![r], ..Default::default() })
    }
}

/// Whether a recorder records every supported type, global (IAM) ones included.
fn records_global(recorder: &Value) -> bool {
    let group = &recorder["RecordingGroup"];
    group["AllSupported"] == Value::Bool(true)
        && group["IncludeGlobalResourceTypes"] == Value::Bool(true)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::records_global;

    #[test]
    fn global_recorders_need_all_supported_and_global_types() {
        let group = |all: bool, global: bool| json!({"RecordingGroup": {"AllSupported": all, "IncludeGlobalResourceTypes": global}});
        assert!(records_global(&group(true, true)));
        assert!(!records_global(&group(false, true)), "a type list is not every type");
        assert!(!records_global(&group(true, false)));
        assert!(!records_global(&json!({"RecordingGroup": null})));
    }
}
