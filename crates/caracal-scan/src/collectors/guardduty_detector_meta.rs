//! `AWS.GuardDuty.Detector.Meta` (per account): the detectors of every scanned region and
//! the regions looked at, so "GuardDuty on in every region" can be checked although a
//! region without a detector yields no `AWS.GuardDuty.Detector`.
//!
//! Panther's field: `Detectors` (the detectors' resource ids). caracal adds `Regions` and
//! `DetectorDetails` (`[{Region, ResourceId, Id, Status}]`). Each region's detectors are
//! read once per scan, shared with the regional collector.

use async_trait::async_trait;
use caracal_core::Resource;
use caracal_core::resource::GLOBAL_REGION;
use serde_json::json;

use super::guardduty_detector::detector_arn;
use super::{Collected, Collector, IdShape, ListingScope, Scope};
use crate::error::CollectError;

const TYPE: &str = "AWS.GuardDuty.Detector.Meta";

pub(crate) struct DetectorMeta;

#[async_trait]
impl Collector for DetectorMeta {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::AccountSingleton
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["guardduty:ListDetectors", "guardduty:GetDetector"]
    }

    fn listing_scope(&self) -> ListingScope {
        ListingScope::Global
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let regions = scope.regions().to_vec();
        let per_region = scope
            .each(regions.clone(), |region| async move {
                scope.shared().detectors(scope, &region).await.map(|d| (region, d))
            })
            .await;
        let mut ids = Vec::new();
        let mut details = Vec::new();
        for result in per_region {
            let (region, found) = result?;
            for d in found.iter() {
                let id = detector_arn(scope.account_id(), &region, &d.id);
                details.push(json!({
                    "Region": region,
                    "ResourceId": id,
                    "Id": d.id,
                    "Status": d.attributes["Status"],
                }));
                ids.push(id);
            }
        }
        let id = format!("{}::{TYPE}", scope.account_id());
        let mut r = Resource::new(id, TYPE, scope.account_id(), GLOBAL_REGION);
        r.name = Some(TYPE.to_owned());
        let r = r.with("Detectors", ids).with("DetectorDetails", details).with("Regions", regions);
        Ok(Collected { resources: vec![r], ..Default::default() })
    }
}
