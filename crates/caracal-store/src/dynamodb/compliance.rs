//! [`ComplianceStore`] on DynamoDB: table `<prefix>-compliance`, index `by-policy`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use caracal_core::{ComplianceStatus, Finding, Severity};

use super::{DynamoStore, Item, get_s, key, s};
use crate::{
    compliance::{ComplianceStore, OverviewRow, all_severities, overview},
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
        })
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
    async fn set_status(&self, findings: &[Finding]) -> Result<()> {
        let table = &self.tables().compliance;
        // One request per resource × policy: BatchWriteItem refuses repeated keys.
        let mut latest: HashMap<(&str, &str), &Finding> = HashMap::new();
        for f in findings {
            latest.insert((&f.resource_id, &f.policy_id), f);
        }
        let mut requests = Vec::with_capacity(latest.len());
        for f in latest.into_values() {
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
            requests.push(self.put_request(table, item)?);
        }
        self.batch_write(table, requests).await
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
