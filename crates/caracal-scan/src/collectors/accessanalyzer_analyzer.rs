//! `AWS.AccessAnalyzer.Analyzer`: ListAnalyzers, whose answer carries each analyzer's
//! type, status and tags, so no per-analyzer call is made. Attributes keep Access
//! Analyzer's names, capitalized as the other types' (`Type`, `Status`, `StatusReason`,
//! `CreatedAt`, `LastResourceAnalyzed`, `LastResourceAnalyzedAt`). CIS asks for an active
//! analyzer in every region; a region without one yields no resource, so the policy reads
//! `AWS.AccessAnalyzer.Analyzer` resources per region.
//!
//! The emulator has no Access Analyzer: the mapping is tested with a recorded answer.

use async_trait::async_trait;
use aws_sdk_accessanalyzer::types::AnalyzerSummary;
use caracal_core::Resource;
use serde_json::json;

use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, e, ts};

const TYPE: &str = "AWS.AccessAnalyzer.Analyzer";

pub(crate) struct Analyzers;

#[async_trait]
impl Collector for Analyzers {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "access-analyzer", prefix: "analyzer/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["access-analyzer:ListAnalyzers"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let client = scope.clients().accessanalyzer();
        let mut resources = Vec::new();
        let mut pages = client.list_analyzers().into_paginator().send();
        while let Some(page) = pages.next().await {
            for a in page.op("access-analyzer:ListAnalyzers")?.analyzers() {
                resources.push(analyzer(scope.account_id(), scope.region(), a));
            }
        }
        Ok(Collected { resources, ..Default::default() })
    }
}

fn analyzer(account: &str, region: &str, a: &AnalyzerSummary) -> Resource {
    let arn = a.arn().to_owned();
    let mut r = Resource::new(&arn, TYPE, account, region);
    r.arn = Some(arn);
    r.name = Some(a.name().to_owned());
    r.tags = a.tags().cloned().unwrap_or_default().into_iter().collect();
    r.time_created = created(Some(a.created_at()));
    r.with("Type", a.r#type().as_str())
        .with("Status", a.status().as_str())
        .with("StatusReason", a.status_reason().map(|s| json!({"Code": e(Some(s.code()))})))
        .with("CreatedAt", ts(Some(a.created_at())))
        .with("LastResourceAnalyzed", a.last_resource_analyzed())
        .with("LastResourceAnalyzedAt", ts(a.last_resource_analyzed_at()))
}
