//! [`AuditStore`] on DynamoDB: `<prefix>-audit`, with indexes by resource, by
//! remediation and by time (newest first through `at_id` = `at#id`).

use async_trait::async_trait;
use caracal_core::AuditRecord;

use super::{DynamoStore, alerts::is_condition_failure, get_s, key, s};
use crate::{
    audit::{AuditFilter, AuditStore},
    error::Result,
    time,
};

#[async_trait]
impl AuditStore for DynamoStore {
    async fn append(&self, record: &AuditRecord) -> Result<()> {
        let table = &self.tables().audit;
        let body = serde_json::to_string(record).unwrap_or_default();
        let out = self
            .client()
            .put_item()
            .table_name(table)
            .item("id", s(&record.id))
            .item("kind", s("audit"))
            .item("at_id", s(format!("{}#{}", time::format(record.at), record.id)))
            .item("resource_id", s(&record.resource_id))
            .item("remediation_id", s(&record.remediation_id))
            .item("body", s(body))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", "id")
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            // Already appended: a retry.
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(self.err("PutItem", table, e)),
        }
    }

    async fn get(&self, id: &str) -> Result<Option<AuditRecord>> {
        let table = &self.tables().audit;
        let out = self
            .client()
            .get_item()
            .table_name(table)
            .set_key(Some(key([("id", id)])))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err("GetItem", table, e))?;
        out.item
            .as_ref()
            .map(|item| {
                let body = get_s(item, "body").unwrap_or_default();
                serde_json::from_str(body).map_err(|e| self.malformed(table, id, e))
            })
            .transpose()
    }

    async fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let table = &self.tables().audit;
        let (index, attr, value) = match (&filter.resource_id, &filter.remediation_id) {
            (Some(r), _) => ("by-resource", "resource_id", r.clone()),
            (None, Some(r)) => ("by-remediation", "remediation_id", r.clone()),
            (None, None) => ("by-time", "kind", "audit".to_owned()),
        };
        let also_remediation =
            filter.resource_id.is_some().then_some(()).and(filter.remediation_id.clone());
        let mut records = Vec::new();
        let mut start = None;
        while records.len() < filter.limit {
            let mut query = self
                .client()
                .query()
                .table_name(table)
                .index_name(index)
                .key_condition_expression("#k = :k")
                .expression_attribute_names("#k", attr)
                .expression_attribute_values(":k", s(&value))
                .scan_index_forward(false)
                .limit(filter.limit.clamp(1, 1000) as i32)
                .set_exclusive_start_key(start);
            if let Some(remediation) = &also_remediation {
                query = query
                    .filter_expression("remediation_id = :r")
                    .expression_attribute_values(":r", s(remediation));
            }
            let out = query.send().await.map_err(|e| self.err("Query", table, e))?;
            for item in out.items.unwrap_or_default() {
                let id = get_s(&item, "id").unwrap_or_default();
                let body = get_s(&item, "body").unwrap_or_default();
                records.push(serde_json::from_str(body).map_err(|e| self.malformed(table, id, e))?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        records.truncate(filter.limit);
        Ok(records)
    }
}
