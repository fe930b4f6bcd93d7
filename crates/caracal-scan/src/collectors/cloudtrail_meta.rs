//! `AWS.CloudTrail.Meta` (per account): every trail that applies to a scanned region
//! (DescribeTrails with shadow trails, per region), and the event selectors of the
//! multi-region trails that are logging (GetTrailStatus, GetEventSelectors in the trail's
//! home region), so "a multi-region trail logs management events" can be checked.
//!
//! As in Panther's snapshot, `GlobalEventSelectors` and `GlobalAdvancedEventSelectors` are
//! flat lists of the selectors themselves (GetEventSelectors' shapes), not per trail.

use std::collections::BTreeMap;

use async_trait::async_trait;
use caracal_core::resource::GLOBAL_REGION;
use caracal_core::{Resource, ResourceType};
use serde_json::Value;

use super::cloudtrail::event_selectors;
use super::{Collected, Collector, IdShape, ListingScope, Scope};
use crate::error::CollectError;
use crate::sdk::CallResult;

pub(crate) struct TrailMeta;

#[async_trait]
impl Collector for TrailMeta {
    fn resource_type(&self) -> &'static str {
        ResourceType::CLOUDTRAIL_META
    }

    fn id_shape(&self) -> IdShape {
        IdShape::AccountSingleton
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"]
    }

    fn listing_scope(&self) -> ListingScope {
        ListingScope::Global
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let per_region = scope
            .each(scope.regions().to_vec(), |region| async move {
                scope
                    .clients_in(&region)
                    .cloudtrail()
                    .describe_trails()
                    .include_shadow_trails(true)
                    .send()
                    .await
                    .op("cloudtrail:DescribeTrails")
                    .map_err(|e| e.on(region))
            })
            .await;
        // Trail ARN → (home region, multi-region).
        let mut trails = BTreeMap::new();
        for out in per_region {
            for t in out?.trail_list() {
                if let Some(arn) = t.trail_arn() {
                    trails.insert(
                        arn.to_owned(),
                        (
                            t.home_region().unwrap_or_default().to_owned(),
                            t.is_multi_region_trail() == Some(true),
                        ),
                    );
                }
            }
        }
        let mut global_selectors = Vec::new();
        let mut global_advanced = Vec::new();
        for (arn, (home, multi_region)) in &trails {
            if !multi_region {
                continue;
            }
            let ct = scope.clients_in(home).cloudtrail();
            let status = ct
                .get_trail_status()
                .name(arn)
                .send()
                .await
                .op("cloudtrail:GetTrailStatus")
                .map_err(|e| e.on(arn))?;
            if status.is_logging() != Some(true) {
                continue;
            }
            let (selectors, advanced) = event_selectors(&ct, arn).await.map_err(|e| e.on(arn))?;
            global_selectors.extend(into_list(selectors));
            global_advanced.extend(into_list(advanced));
        }
        let id = format!("{}::{}", scope.account_id(), ResourceType::CLOUDTRAIL_META);
        let mut r =
            Resource::new(id, ResourceType::CLOUDTRAIL_META, scope.account_id(), GLOBAL_REGION);
        r.name = Some(ResourceType::CLOUDTRAIL_META.to_owned());
        let r = r
            .with("Trails", trails.keys().cloned().map(Value::String).collect::<Vec<_>>())
            .with("GlobalEventSelectors", global_selectors)
            .with("GlobalAdvancedEventSelectors", global_advanced);
        Ok(Collected { resources: vec![r], ..Default::default() })
    }
}

/// The items of a JSON list; nothing for anything else.
fn into_list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}
