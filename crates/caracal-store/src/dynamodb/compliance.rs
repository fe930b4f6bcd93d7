//! [`ComplianceStore`] on DynamoDB: table `<prefix>-compliance` (index `by-policy`) and
//! `<prefix>-transitions` (indexes `by-policy` and `by-time`).
//!
//! A batch reads the stored findings with `BatchGetItem`, then writes findings and
//! transitions with `BatchWriteItem`. Two writers racing on one finding may both record
//! its transition (at their own evaluation times); neither loses a verdict.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use caracal_core::{Cause, ComplianceStatus, Finding, Severity, Transition};
use chrono::{DateTime, Utc};

use super::{DynamoStore, Item, get_s, key, s};
use crate::{
    compliance::{
        ComplianceStore, OverviewRow, TransitionQuery, all_severities, latest, merge, overview,
    },
    error::Result,
    time,
};

impl DynamoStore {
    fn finding(&self, item: &Item) -> Result<Finding> {
        let table = &self.tables().compliance;
        let id = format!(
            "{} {}",
            get_s(item, "resource_id").unwrap_or_default(),
            get_s(item, "policy_id").unwrap_or_default()
        );
        let bad = |reason: String| self.malformed(table, &id, reason);
        let text = |name: &str| {
            get_s(item, name).map(str::to_owned).ok_or_else(|| bad(format!("missing {name}")))
        };
        let status = text("status")?;
        Ok(Finding {
            resource_id: text("resource_id")?,
            resource_type: text("resource_type")?,
            account_id: text("account_id")?,
            region: text("region")?,
            policy_id: text("policy_id")?,
            severity: text("severity")?
                .parse()
                .map_err(|e: caracal_core::Error| bad(e.to_string()))?,
            status: ComplianceStatus::from_parts(
                &status,
                get_s(item, "message").map(str::to_owned),
            )
            .ok_or_else(|| bad(format!("unknown status {status:?}")))?,
            suppressed: item
                .get("suppressed")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
            evaluated_at: time::parse(&text("evaluated_at")?).map_err(bad)?,
            first_seen: get_s(item, "first_seen").map(time::parse).transpose().map_err(bad)?,
        })
    }

    fn finding_item(f: &Finding) -> Item {
        let mut item = Item::from([
            ("resource_id".to_owned(), s(&f.resource_id)),
            ("policy_id".to_owned(), s(&f.policy_id)),
            ("resource_type".to_owned(), s(&f.resource_type)),
            ("account_id".to_owned(), s(&f.account_id)),
            ("region".to_owned(), s(&f.region)),
            ("severity".to_owned(), s(f.severity.as_str())),
            ("status".to_owned(), s(f.status.as_str())),
            ("suppressed".to_owned(), AttributeValue::Bool(f.suppressed)),
            ("evaluated_at".to_owned(), s(time::format(f.evaluated_at))),
        ]);
        if let Some(message) = f.status.message() {
            item.insert("message".to_owned(), s(message));
        }
        if let Some(first_seen) = f.first_seen {
            item.insert("first_seen".to_owned(), s(time::format(first_seen)));
        }
        item
    }

    fn transition_request(&self, t: &Transition) -> Result<WriteRequest> {
        let table = &self.tables().transitions;
        let at = time::format(t.at);
        let body =
            serde_json::to_string(t).map_err(|e| self.malformed(table, &t.resource_id, e))?;
        let item = Item::from([
            ("resource_id".to_owned(), s(&t.resource_id)),
            ("change".to_owned(), s(format!("{at}#{}", t.policy_id))),
            ("policy_id".to_owned(), s(&t.policy_id)),
            ("at_resource".to_owned(), s(format!("{at}#{}", t.resource_id))),
            ("kind".to_owned(), s("transition")),
            ("at_key".to_owned(), s(format!("{at}#{}#{}", t.resource_id, t.policy_id))),
            ("body".to_owned(), s(body)),
        ]);
        self.put_request(table, item)
    }

    fn transition(&self, item: &Item) -> Result<Transition> {
        let table = &self.tables().transitions;
        let body = get_s(item, "body").unwrap_or_default();
        serde_json::from_str(body)
            .map_err(|e| self.malformed(table, get_s(item, "resource_id").unwrap_or_default(), e))
    }

    /// Every item of a query on the compliance table or its index, all pages.
    async fn query_compliance(
        &self,
        index: Option<&str>,
        attr: &str,
        value: &str,
    ) -> Result<Vec<Item>> {
        let query = self
            .client()
            .query()
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression("#k = :k")
            .expression_attribute_names("#k", attr)
            .expression_attribute_values(":k", s(value))
            .set_consistent_read(index.is_none().then_some(true));
        self.query_all(&self.tables().compliance, query).await
    }

    /// Every finding in the table (for the overviews).
    async fn all_findings(&self) -> Result<Vec<Finding>> {
        let items = self.scan_all(&self.tables().compliance).await?;
        items.iter().map(|item| self.finding(item)).collect()
    }
}

#[async_trait]
impl ComplianceStore for DynamoStore {
    async fn record(&self, findings: &[Finding], cause: &Cause) -> Result<Vec<Transition>> {
        let table = &self.tables().compliance;
        // One request per resource × policy: BatchWriteItem refuses repeated keys.
        let findings = latest(findings);
        let keys = findings
            .iter()
            .map(|f| key([("resource_id", &f.resource_id), ("policy_id", &f.policy_id)]))
            .collect();
        let mut stored: HashMap<(String, String), Finding> = HashMap::new();
        for item in self.batch_get(table, keys).await? {
            let f = self.finding(&item)?;
            stored.insert((f.resource_id.clone(), f.policy_id.clone()), f);
        }
        let mut requests = Vec::with_capacity(findings.len());
        let mut transitions = Vec::new();
        let mut transition_requests = Vec::new();
        for next in findings {
            let previous = stored.get(&(next.resource_id.clone(), next.policy_id.clone()));
            if let Some((finding, transition)) = merge(previous, next, cause) {
                requests.push(self.put_request(table, Self::finding_item(&finding))?);
                if let Some(t) = transition {
                    transition_requests.push(self.transition_request(&t)?);
                    transitions.push(t);
                }
            }
        }
        // History first: a batch that fails half-way leaves the old verdict, so the
        // retry derives (and idempotently rewrites) the same transitions.
        self.batch_write(&self.tables().transitions, transition_requests).await?;
        self.batch_write(table, requests).await?;
        Ok(transitions)
    }

    async fn transitions(&self, q: &TransitionQuery) -> Result<Vec<Transition>> {
        let table = &self.tables().transitions;
        let (index, attr, value, range) = match (&q.resource_id, &q.policy_id) {
            (Some(r), _) => (None, "resource_id", r.clone(), "change"),
            (None, Some(p)) => (Some("by-policy"), "policy_id", p.clone(), "at_resource"),
            (None, None) => (Some("by-time"), "kind", "transition".to_owned(), "at_key"),
        };
        let mut query = self
            .client()
            .query()
            .set_index_name(index.map(str::to_owned))
            .scan_index_forward(false)
            .expression_attribute_names("#k", attr)
            .expression_attribute_values(":k", s(value));
        query = match q.since {
            Some(since) => query
                .key_condition_expression("#k = :k AND #r >= :since")
                .expression_attribute_names("#r", range)
                .expression_attribute_values(":since", s(time::format(since))),
            None => query.key_condition_expression("#k = :k"),
        };
        let mut out = Vec::new();
        let mut pages = query.table_name(table).into_paginator().items().send();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| self.err("Query", table, e))?;
            let t = self.transition(&item)?;
            if crate::compliance::matches(q, &t) {
                out.push(t);
                if out.len() >= q.limit.max(1) {
                    break;
                }
            }
        }
        Ok(out)
    }

    async fn prune_transitions(&self, before: DateTime<Utc>) -> Result<u64> {
        let table = &self.tables().transitions;
        let cutoff = time::format(before);
        let items = self.scan_all(table).await?;
        let mut requests = Vec::new();
        for item in &items {
            let change = get_s(item, "change").unwrap_or_default();
            if change.split('#').next().is_some_and(|at| at < cutoff.as_str()) {
                let resource = get_s(item, "resource_id").unwrap_or_default();
                let delete = DeleteRequest::builder()
                    .set_key(Some(key([("resource_id", resource), ("change", change)])))
                    .build()
                    .map_err(|e| self.build_err(table, e))?;
                requests.push(WriteRequest::builder().delete_request(delete).build());
            }
        }
        let n = requests.len() as u64;
        self.batch_write(table, requests).await?;
        Ok(n)
    }

    async fn get(&self, resource_id: &str, policy_id: &str) -> Result<Option<Finding>> {
        let table = &self.tables().compliance;
        let out = self
            .client()
            .get_item()
            .table_name(table)
            .set_key(Some(key([("resource_id", resource_id), ("policy_id", policy_id)])))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err("GetItem", table, e))?;
        out.item.as_ref().map(|item| self.finding(item)).transpose()
    }

    async fn for_resource(&self, resource_id: &str) -> Result<Vec<Finding>> {
        let items = self.query_compliance(None, "resource_id", resource_id).await?;
        items.iter().map(|i| self.finding(i)).collect()
    }

    async fn for_policy(&self, policy_id: &str) -> Result<Vec<Finding>> {
        let items = self.query_compliance(Some("by-policy"), "policy_id", policy_id).await?;
        items.iter().map(|i| self.finding(i)).collect()
    }

    async fn overview_by_policy(&self) -> Result<Vec<OverviewRow<String>>> {
        let all = self.all_findings().await?;
        Ok(overview(all.iter().map(|f| (f.policy_id.clone(), &f.status, f.suppressed))))
    }

    async fn overview_by_resource(&self) -> Result<Vec<OverviewRow<String>>> {
        let all = self.all_findings().await?;
        Ok(overview(all.iter().map(|f| (f.resource_id.clone(), &f.status, f.suppressed))))
    }

    async fn overview_by_severity(&self) -> Result<Vec<OverviewRow<Severity>>> {
        let all = self.all_findings().await?;
        Ok(all_severities(overview(all.iter().map(|f| (f.severity, &f.status, f.suppressed)))))
    }

    async fn delete_for_resource(&self, resource_id: &str) -> Result<u64> {
        let table = &self.tables().compliance;
        let items = self.query_compliance(None, "resource_id", resource_id).await?;
        let at = Utc::now();
        let mut gone = Vec::with_capacity(items.len());
        for item in &items {
            let previous = self.finding(item)?;
            let t = caracal_core::compliance::deletion(&previous, at, &Cause::default());
            gone.push(self.transition_request(&t)?);
        }
        self.batch_write(&self.tables().transitions, gone).await?;
        let mut requests = Vec::with_capacity(items.len());
        for item in &items {
            let policy_id = get_s(item, "policy_id").unwrap_or_default();
            let delete = DeleteRequest::builder()
                .set_key(Some(key([("resource_id", resource_id), ("policy_id", policy_id)])))
                .build()
                .map_err(|e| self.build_err(table, e))?;
            requests.push(WriteRequest::builder().delete_request(delete).build());
        }
        self.batch_write(table, requests).await?;
        Ok(items.len() as u64)
    }
}
