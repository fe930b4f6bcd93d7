//! `AWS.GuardDuty.Detector`: ListDetectors, then GetDetector per detector (a region has
//! at most one). Attributes keep GuardDuty's names (Panther's): `Status`,
//! `FindingPublishingFrequency`, `ServiceRole`, `DataSources`, `Features`, `CreatedAt`,
//! `UpdatedAt` (the detector id is the envelope's `Id`). The detectors of a region are read once per scan ([`Shared`](super::Shared))
//! and also feed `AWS.GuardDuty.Detector.Meta`.

use async_trait::async_trait;
use aws_sdk_guardduty::Client;
use caracal_core::Resource;
use serde_json::{Value, json};

use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, e, list};

pub(super) const TYPE: &str = "AWS.GuardDuty.Detector";

/// One detector as GetDetector describes it.
#[derive(Debug, Clone)]
pub(super) struct Detector {
    pub(super) id: String,
    pub(super) attributes: Value,
    pub(super) tags: std::collections::BTreeMap<String, String>,
}

pub(crate) struct Detectors;

#[async_trait]
impl Collector for Detectors {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "guardduty", prefix: "detector/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["guardduty:ListDetectors", "guardduty:GetDetector"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let found = scope.shared().detectors(scope, scope.region()).await?;
        let resources = found
            .iter()
            .map(|d| {
                let arn = detector_arn(scope.account_id(), scope.region(), &d.id);
                let mut r = Resource::new(&arn, TYPE, scope.account_id(), scope.region());
                r.arn = Some(arn);
                r.id = Some(d.id.clone());
                r.name = Some(d.id.clone());
                r.tags = d.tags.clone();
                r.time_created = d.attributes["CreatedAt"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&chrono::Utc));
                if let Value::Object(map) = d.attributes.clone() {
                    r.attributes.extend(map);
                }
                r
            })
            .collect();
        Ok(Collected { resources, ..Default::default() })
    }
}

/// A detector's ARN (its `ResourceId`).
pub(super) fn detector_arn(account: &str, region: &str, id: &str) -> String {
    format!("arn:aws:guardduty:{region}:{account}:detector/{id}")
}

/// Every detector of the client's region, each described.
pub(super) async fn fetch(gd: &Client) -> Result<Vec<Detector>, CollectError> {
    let mut ids = Vec::new();
    let mut pages = gd.list_detectors().into_paginator().send();
    while let Some(page) = pages.next().await {
        ids.extend(page.op("guardduty:ListDetectors")?.detector_ids().iter().cloned());
    }
    let mut out = Vec::new();
    for id in ids {
        let d = gd
            .get_detector()
            .detector_id(&id)
            .send()
            .await
            .op("guardduty:GetDetector")
            .map_err(|e| e.on(&id))?;
        // `DataSources` is deprecated in favour of `Features`; it is Panther's field and
        // AWS still fills it, so both are kept.
        #[allow(deprecated)]
        let sources = d.data_sources();
        let attributes = json!({
            "Status": e(d.status()),
            "FindingPublishingFrequency": e(d.finding_publishing_frequency()),
            "ServiceRole": d.service_role(),
            "CreatedAt": d.created_at(),
            "UpdatedAt": d.updated_at(),
            "DataSources": sources.map(|s| json!({
                "CloudTrail": s.cloud_trail().map(|x| json!({"Status": e(x.status())})),
                "DNSLogs": s.dns_logs().map(|x| json!({"Status": e(x.status())})),
                "FlowLogs": s.flow_logs().map(|x| json!({"Status": e(x.status())})),
                "S3Logs": s.s3_logs().map(|x| json!({"Status": e(x.status())})),
                "Kubernetes": s.kubernetes().and_then(|k| k.audit_logs()).map(|x| json!({"AuditLogs": {"Status": e(x.status())}})),
            })),
            "Features": list(d.features(), |f| json!({
                "Name": e(f.name()),
                "Status": e(f.status()),
            })),
        });
        let tags = d.tags().cloned().unwrap_or_default().into_iter().collect();
        out.push(Detector { id, attributes, tags });
    }
    Ok(out)
}
