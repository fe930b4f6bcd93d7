//! [`KvStore`] on DynamoDB: `<prefix>-kv`, one item per key; `expires_at` is the TTL
//! attribute and is checked on every read, because DynamoDB deletes expired items late.
//!
//! Writes to a key that may have expired are conditional: they touch the item only while
//! it is live, and otherwise replace it (conditionally again) with a fresh one.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};

use super::{DynamoStore, Item, alerts::is_condition_failure, get_n, key, n, s};
use crate::{
    error::{Error, Result},
    kv::{KvStore, expired, expiry},
};

/// Attempts when concurrent writers keep expiring or recreating a key.
const KV_ATTEMPTS: u32 = 5;

/// Condition: the item is absent or live at `:now`.
const ABSENT_OR_LIVE: &str = "attribute_not_exists(expires_at) OR expires_at > :now";

impl DynamoStore {
    /// The live item at `key`, or `None` when absent or expired.
    async fn live_item(&self, k: &str) -> Result<Option<Item>> {
        let table = &self.tables().kv;
        let out = self
            .client()
            .get_item()
            .table_name(table)
            .set_key(Some(key([("key", k)])))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err("GetItem", table, e))?;
        Ok(out.item.filter(|item| !expired(get_n(item, "expires_at"), Utc::now())))
    }

    /// Replaces an expired item with `item`, unless it was renewed meanwhile. Returns
    /// whether it was replaced.
    async fn replace_expired(&self, item: Item, now: DateTime<Utc>) -> Result<bool> {
        let table = &self.tables().kv;
        let out = self
            .client()
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("expires_at <= :now")
            .expression_attribute_values(":now", n(now.timestamp()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(self.err("PutItem", table, e)),
        }
    }

    fn contention(&self, k: &str) -> Error {
        Error::Dynamo {
            endpoint: self.endpoint(),
            operation: "UpdateItem",
            table: self.tables().kv.clone(),
            reason: format!("key {k:?} kept expiring and being recreated by concurrent writers"),
        }
    }
}

#[async_trait]
impl KvStore for DynamoStore {
    async fn get(&self, k: &str) -> Result<Option<String>> {
        let item = self.live_item(k).await?;
        Ok(item.and_then(|i| i.get("value").and_then(|v| v.as_s().ok()).cloned()))
    }

    async fn put(&self, k: &str, value: &str, ttl: Option<Duration>) -> Result<()> {
        let table = &self.tables().kv;
        let mut item = key([("key", k)]);
        item.insert("value".to_owned(), s(value));
        if let Some(at) = expiry(Utc::now(), ttl) {
            item.insert("expires_at".to_owned(), n(at));
        }
        self.client()
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| self.err("PutItem", table, e))?;
        Ok(())
    }

    async fn delete(&self, k: &str) -> Result<()> {
        let table = &self.tables().kv;
        self.client()
            .delete_item()
            .table_name(table)
            .set_key(Some(key([("key", k)])))
            .send()
            .await
            .map_err(|e| self.err("DeleteItem", table, e))?;
        Ok(())
    }

    async fn expire_at(&self, k: &str, at: DateTime<Utc>) -> Result<()> {
        let table = &self.tables().kv;
        let out = self
            .client()
            .update_item()
            .table_name(table)
            .set_key(Some(key([("key", k)])))
            .update_expression("SET expires_at = :at")
            .condition_expression(
                "attribute_exists(#k) AND (attribute_not_exists(expires_at) OR expires_at > :now)",
            )
            .expression_attribute_names("#k", "key")
            .expression_attribute_values(":at", n(at.timestamp()))
            .expression_attribute_values(":now", n(Utc::now().timestamp()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            // Absent or already expired: nothing to do.
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(self.err("UpdateItem", table, e)),
        }
    }

    async fn incr(&self, k: &str, by: i64, ttl: Option<Duration>) -> Result<i64> {
        let table = &self.tables().kv;
        for _ in 0..KV_ATTEMPTS {
            let now = Utc::now();
            let exp = expiry(now, ttl);
            let mut update = self
                .client()
                .update_item()
                .table_name(table)
                .set_key(Some(key([("key", k)])))
                .condition_expression(ABSENT_OR_LIVE)
                .expression_attribute_values(":now", n(now.timestamp()))
                .expression_attribute_values(":by", n(by))
                .return_values(ReturnValue::UpdatedNew);
            update = match exp {
                Some(at) => update
                    .update_expression(
                        "ADD #c :by SET expires_at = if_not_exists(expires_at, :exp)",
                    )
                    .expression_attribute_values(":exp", n(at)),
                None => update.update_expression("ADD #c :by"),
            };
            match update.expression_attribute_names("#c", "counter").send().await {
                Ok(out) => {
                    return Ok(out
                        .attributes
                        .as_ref()
                        .and_then(|a| get_n(a, "counter"))
                        .unwrap_or(by));
                }
                Err(e) if is_condition_failure(&e) => {
                    let mut item = key([("key", k)]);
                    item.insert("counter".to_owned(), n(by));
                    if let Some(at) = exp {
                        item.insert("expires_at".to_owned(), n(at));
                    }
                    if self.replace_expired(item, now).await? {
                        return Ok(by);
                    }
                }
                Err(e) => return Err(self.err("UpdateItem", table, e)),
            }
        }
        Err(self.contention(k))
    }

    async fn counter(&self, k: &str) -> Result<i64> {
        let item = self.live_item(k).await?;
        Ok(item.and_then(|i| get_n(&i, "counter")).unwrap_or(0))
    }

    async fn set_add(&self, k: &str, members: &[String], ttl: Option<Duration>) -> Result<()> {
        if members.is_empty() {
            return Ok(());
        }
        let table = &self.tables().kv;
        let set = AttributeValue::Ss(members.to_vec());
        for _ in 0..KV_ATTEMPTS {
            let now = Utc::now();
            let exp = expiry(now, ttl);
            let mut update = self
                .client()
                .update_item()
                .table_name(table)
                .set_key(Some(key([("key", k)])))
                .condition_expression(ABSENT_OR_LIVE)
                .expression_attribute_values(":now", n(now.timestamp()))
                .expression_attribute_values(":m", set.clone());
            update = match exp {
                Some(at) => update
                    .update_expression("ADD #m :m SET expires_at = :exp")
                    .expression_attribute_values(":exp", n(at)),
                None => update.update_expression("ADD #m :m"),
            };
            match update.expression_attribute_names("#m", "members").send().await {
                Ok(_) => return Ok(()),
                Err(e) if is_condition_failure(&e) => {
                    let mut item = key([("key", k)]);
                    item.insert("members".to_owned(), set.clone());
                    if let Some(at) = exp {
                        item.insert("expires_at".to_owned(), n(at));
                    }
                    if self.replace_expired(item, now).await? {
                        return Ok(());
                    }
                }
                Err(e) => return Err(self.err("UpdateItem", table, e)),
            }
        }
        Err(self.contention(k))
    }

    async fn set_remove(&self, k: &str, members: &[String]) -> Result<()> {
        if members.is_empty() {
            return Ok(());
        }
        let table = &self.tables().kv;
        let out = self
            .client()
            .update_item()
            .table_name(table)
            .set_key(Some(key([("key", k)])))
            .update_expression("DELETE #m :m")
            .expression_attribute_names("#m", "members")
            .condition_expression(
                "attribute_exists(#k) AND (attribute_not_exists(expires_at) OR expires_at > :now)",
            )
            .expression_attribute_names("#k", "key")
            .expression_attribute_values(":m", AttributeValue::Ss(members.to_vec()))
            .expression_attribute_values(":now", n(Utc::now().timestamp()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(self.err("UpdateItem", table, e)),
        }
    }

    async fn set_get(&self, k: &str) -> Result<BTreeSet<String>> {
        let item = self.live_item(k).await?;
        Ok(item
            .and_then(|i| i.get("members").and_then(|v| v.as_ss().ok()).cloned())
            .unwrap_or_default()
            .into_iter()
            .collect())
    }
}
