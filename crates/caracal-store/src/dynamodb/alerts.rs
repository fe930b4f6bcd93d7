//! [`AlertStore`] on DynamoDB: `<prefix>-alerts` (index `by-last-seen`) and
//! `<prefix>-alert-windows`, updated with optimistic conditions.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use caracal_core::Alert;

use super::{DynamoStore, get_n, get_s, key, n, s};
use crate::{
    alerts::{AlertStore, DedupOutcome, MatchKey, alert_id, window_open},
    error::{Error, Result},
    time,
};

/// Attempts at `record_match` when concurrent writers keep changing the window.
const WINDOW_ATTEMPTS: u32 = 5;

impl DynamoStore {
    fn alert(&self, id: &str, body: Option<&str>) -> Result<Alert> {
        let table = &self.tables().alerts;
        let body = body.ok_or_else(|| self.malformed(table, id, "missing body"))?;
        serde_json::from_str(body).map_err(|e| self.malformed(table, id, e))
    }
}

#[async_trait]
impl AlertStore for DynamoStore {
    async fn put(&self, alert: &Alert) -> Result<()> {
        let table = &self.tables().alerts;
        let body = serde_json::to_string(alert).unwrap_or_default();
        self.client()
            .put_item()
            .table_name(table)
            .item("id", s(&alert.id))
            .item("kind", s("alert"))
            .item("last_seen_id", s(format!("{}#{}", time::format(alert.last_seen), alert.id)))
            .item("revision", n(alert.revision as i64))
            .item("body", s(body))
            .send()
            .await
            .map_err(|e| self.err("PutItem", table, e))?;
        Ok(())
    }

    async fn put_if_revision(&self, alert: &Alert, expected: Option<u64>) -> Result<bool> {
        let table = &self.tables().alerts;
        let body = serde_json::to_string(alert).unwrap_or_default();
        let mut put = self
            .client()
            .put_item()
            .table_name(table)
            .item("id", s(&alert.id))
            .item("kind", s("alert"))
            .item("last_seen_id", s(format!("{}#{}", time::format(alert.last_seen), alert.id)))
            .item("revision", n(alert.revision as i64))
            .item("body", s(body));
        put = match expected {
            None => put.condition_expression("attribute_not_exists(id)"),
            // Alerts written before revisions existed have none: that is revision 0.
            Some(0) => put
                .condition_expression("attribute_not_exists(revision) OR revision = :r")
                .expression_attribute_values(":r", n(0)),
            Some(r) => put
                .condition_expression("revision = :r")
                .expression_attribute_values(":r", n(r as i64)),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(self.err("PutItem", table, e)),
        }
    }

    async fn get(&self, alert_id: &str) -> Result<Option<Alert>> {
        let table = &self.tables().alerts;
        let out = self
            .client()
            .get_item()
            .table_name(table)
            .set_key(Some(key([("id", alert_id)])))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err("GetItem", table, e))?;
        out.item.as_ref().map(|item| self.alert(alert_id, get_s(item, "body"))).transpose()
    }

    async fn list_recent(&self, limit: usize) -> Result<Vec<Alert>> {
        let table = &self.tables().alerts;
        let mut alerts = Vec::new();
        let mut start = None;
        while alerts.len() < limit {
            let out = self
                .client()
                .query()
                .table_name(table)
                .index_name("by-last-seen")
                .key_condition_expression("#k = :k")
                .expression_attribute_names("#k", "kind")
                .expression_attribute_values(":k", s("alert"))
                .scan_index_forward(false)
                .limit((limit - alerts.len()) as i32)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.err("Query", table, e))?;
            for item in out.items.unwrap_or_default() {
                let id = get_s(&item, "id").unwrap_or_default();
                alerts.push(self.alert(id, get_s(&item, "body"))?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        alerts.truncate(limit);
        Ok(alerts)
    }

    async fn record_match(&self, m: &MatchKey<'_>) -> Result<DedupOutcome> {
        let table = &self.tables().windows;
        let threshold = m.threshold.max(1);
        let count = m.count.max(1);
        let dedup_key = format!("#{}", m.dedup);
        let window_key = key([("rule_id", m.rule_id), ("dedup_key", &dedup_key)]);
        for _ in 0..WINDOW_ATTEMPTS {
            let current = self
                .client()
                .get_item()
                .table_name(table)
                .set_key(Some(window_key.clone()))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| self.err("GetItem", table, e))?
                .item;
            let current_start =
                current.as_ref().and_then(|i| get_s(i, "window_start")).map(str::to_owned);
            let open = match (&current, &current_start) {
                (Some(item), Some(start)) => {
                    let start_time =
                        time::parse(start).map_err(|e| self.malformed(table, m.rule_id, e))?;
                    let alert = get_s(item, "alert_id").unwrap_or_default().to_owned();
                    window_open(start_time, m.window, m.event_time)
                        .then_some((alert, start_time, start))
                }
                _ => None,
            };
            match open {
                Some((alert_id, window_start, start_text)) => {
                    // Count into the window we read, unless another writer replaced it.
                    let out = self
                        .client()
                        .update_item()
                        .table_name(table)
                        .set_key(Some(window_key.clone()))
                        .update_expression("ADD event_count :n")
                        .condition_expression("window_start = :ws")
                        .expression_attribute_values(":n", n(count as i64))
                        .expression_attribute_values(":ws", s(start_text))
                        .return_values(ReturnValue::AllNew)
                        .send()
                        .await;
                    match out {
                        Ok(out) => {
                            let total = out
                                .attributes
                                .as_ref()
                                .and_then(|a| get_n(a, "event_count"))
                                .unwrap_or(count as i64)
                                .max(1) as u64;
                            let before = total.saturating_sub(count);
                            return Ok(DedupOutcome {
                                alert_id,
                                window_start,
                                event_count: total,
                                new_window: false,
                                threshold_reached: before < threshold && total >= threshold,
                            });
                        }
                        Err(e) if is_condition_failure(&e) => continue,
                        Err(e) => return Err(self.err("UpdateItem", table, e)),
                    }
                }
                None => {
                    let outcome = DedupOutcome {
                        alert_id: alert_id(m.rule_id, m.dedup, m.event_time),
                        window_start: m.event_time,
                        event_count: count,
                        new_window: true,
                        threshold_reached: count >= threshold,
                    };
                    // Open a window, unless another writer changed the one we read.
                    let mut put = self
                        .client()
                        .put_item()
                        .table_name(table)
                        .set_item(Some(window_key.clone()))
                        .item("alert_id", s(&outcome.alert_id))
                        .item("window_start", s(time::format(m.event_time)))
                        .item("event_count", n(count as i64));
                    put = match current_start {
                        Some(old) => put
                            .condition_expression("window_start = :old")
                            .expression_attribute_values(":old", s(old)),
                        None => put.condition_expression("attribute_not_exists(rule_id)"),
                    };
                    match put.send().await {
                        Ok(_) => return Ok(outcome),
                        Err(e) if is_condition_failure(&e) => continue,
                        Err(e) => return Err(self.err("PutItem", table, e)),
                    }
                }
            }
        }
        Err(Error::Dynamo {
            endpoint: self.endpoint(),
            operation: "UpdateItem",
            table: table.clone(),
            reason: format!(
                "dedup window of rule {} kept changing under concurrent writers",
                m.rule_id
            ),
        })
    }
}

/// Whether an SDK error is a failed condition expression.
pub(super) fn is_condition_failure<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error().and_then(|se| se.code()) == Some("ConditionalCheckFailedException")
}
