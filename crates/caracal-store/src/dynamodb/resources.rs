//! [`ResourceStore`] on DynamoDB: tables `<prefix>-resources` and `<prefix>-history`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use caracal_core::{ChangeKind, Resource, ResourceChange};
use chrono::{DateTime, Utc};
use tracing::debug;

use super::{DynamoStore, Item, alerts::is_condition_failure, get_s, key, s};
use crate::{
    error::Result,
    resources::{
        Page, PageRequest, Prior, ResourceFilter, ResourceStore, SnapshotPage, SnapshotRef,
        StoredResource, StoredSnapshot, check_envelope, classify, dedupe, first_seen, hash_text,
        newer_state_stored,
    },
    time, token,
};

/// The `scope` attribute: what `ids_in_scope` asks for.
fn scope(account_id: &str, region: &str, resource_type: &str) -> String {
    format!("{account_id}/{region}/{resource_type}")
}

/// How `list` reaches the items matching a filter.
struct Access {
    index: Option<&'static str>,
    /// The index's hash key attribute and value.
    partition: Option<(&'static str, String)>,
    /// Filter conditions beyond the key, as `(attribute, value)` equalities.
    equal: Vec<(&'static str, String)>,
}

fn access(filter: &ResourceFilter) -> Access {
    let f = filter.clone();
    match (f.resource_type, f.account_id, f.region) {
        (Some(t), Some(a), Some(r)) => Access {
            index: Some("by-scope"),
            partition: Some(("scope", scope(&a, &r, &t))),
            equal: vec![],
        },
        (Some(t), a, r) => Access {
            index: Some("by-type"),
            partition: Some(("resource_type", t)),
            equal: [a.map(|a| ("account_id", a)), r.map(|r| ("region", r))]
                .into_iter()
                .flatten()
                .collect(),
        },
        (None, Some(a), r) => Access {
            index: Some("by-account"),
            partition: Some(("account_id", a)),
            equal: r.map(|r| ("region", r)).into_iter().collect(),
        },
        (None, None, r) => Access {
            index: None,
            partition: None,
            equal: r.map(|r| ("region", r)).into_iter().collect(),
        },
    }
}

impl DynamoStore {
    fn stored(&self, item: &Item) -> Result<StoredResource> {
        let stored = self.snapshot(item)?;
        stored.parse().map_err(|e| {
            self.malformed(&self.tables().resources, &stored.resource_id, e.to_string())
        })
    }

    fn snapshot(&self, item: &Item) -> Result<StoredSnapshot> {
        let table = &self.tables().resources;
        let id = get_s(item, "resource_id").unwrap_or_default();
        let bad = |reason: String| self.malformed(table, id, reason);
        let text = |name: &str| get_s(item, name).ok_or_else(|| bad(format!("missing {name}")));
        let when = |t: &str| time::parse(t).map_err(bad);
        Ok(StoredSnapshot {
            snapshot: serde_json::value::RawValue::from_string(text("snapshot")?.to_owned())
                .map_err(|e| bad(e.to_string()))?,
            first_seen: when(text("first_seen")?)?,
            last_seen: when(text("last_seen")?)?,
            deleted_at: get_s(item, "deleted_at").map(when).transpose()?,
            resource_id: id.to_owned(),
        })
    }

    /// One page of [`ResourceStore::list`] as the stored items.
    async fn list_items(&self, filter: &ResourceFilter, page: &PageRequest) -> Result<Page<Item>> {
        let table = &self.tables().resources;
        let limit = page.limit.max(1);
        let access = access(filter);
        let mut start: Option<Item> = match &page.token {
            Some(t) => {
                let key: HashMap<String, String> = token::decode(t)?;
                Some(key.into_iter().map(|(k, v)| (k, s(v))).collect())
            }
            None => None,
        };
        let mut conditions = Vec::new();
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        for (i, (attr, value)) in access.equal.iter().enumerate() {
            conditions.push(format!("#f{i} = :f{i}"));
            names.insert(format!("#f{i}"), (*attr).to_owned());
            values.insert(format!(":f{i}"), s(value));
        }
        if !filter.include_deleted {
            conditions.push("attribute_not_exists(deleted_at)".to_owned());
        }
        let filter_expression = (!conditions.is_empty()).then(|| conditions.join(" AND "));
        // Key attributes of the position after an item: the table key plus the index's.
        let key_attrs: Vec<&str> =
            ["resource_id"].into_iter().chain(access.partition.as_ref().map(|(a, _)| *a)).collect();

        let mut items = Vec::new();
        loop {
            let (found, last_key) = match &access.partition {
                Some((attr, value)) => {
                    let mut values = values.clone();
                    values.insert(":p".to_owned(), s(value));
                    let mut names = names.clone();
                    names.insert("#p".to_owned(), (*attr).to_owned());
                    let out = self
                        .client()
                        .query()
                        .table_name(table)
                        .set_index_name(access.index.map(str::to_owned))
                        .key_condition_expression("#p = :p")
                        .set_filter_expression(filter_expression.clone())
                        .set_expression_attribute_names(Some(names))
                        .set_expression_attribute_values(Some(values))
                        .set_exclusive_start_key(start.take())
                        .limit(limit as i32)
                        .send()
                        .await
                        .map_err(|e| self.err("Query", table, e))?;
                    (out.items.unwrap_or_default(), out.last_evaluated_key)
                }
                None => {
                    let out = self
                        .client()
                        .scan()
                        .table_name(table)
                        .set_filter_expression(filter_expression.clone())
                        .set_expression_attribute_names((!names.is_empty()).then(|| names.clone()))
                        .set_expression_attribute_values(
                            (!values.is_empty()).then(|| values.clone()),
                        )
                        .set_exclusive_start_key(start.take())
                        .limit(limit as i32)
                        .consistent_read(true)
                        .send()
                        .await
                        .map_err(|e| self.err("Scan", table, e))?;
                    (out.items.unwrap_or_default(), out.last_evaluated_key)
                }
            };
            let total = found.len();
            for (i, item) in found.into_iter().enumerate() {
                items.push(item);
                if items.len() == limit {
                    let exhausted = i + 1 == total && last_key.is_none();
                    let next = (!exhausted).then(|| position_token(&items[limit - 1], &key_attrs));
                    return Ok(Page { items, next });
                }
            }
            match last_key {
                Some(k) => start = Some(k),
                None => return Ok(Page { items, next: None }),
            }
        }
    }

    fn prior(&self, item: &Item) -> Result<Prior> {
        let table = &self.tables().resources;
        let id = get_s(item, "resource_id").unwrap_or_default();
        let text = |name: &str| {
            get_s(item, name)
                .map(str::to_owned)
                .ok_or_else(|| self.malformed(table, id, format!("missing {name}")))
        };
        let kind = text("last_change_kind")?;
        Ok(Prior {
            content_hash: text("content_hash")?,
            deleted_at: get_s(item, "deleted_at").map(str::to_owned),
            first_seen: text("first_seen")?,
            last_seen: text("last_seen")?,
            last_change_at: text("last_change_at")?,
            last_change_kind: ChangeKind::parse(&kind).ok_or_else(|| {
                self.malformed(table, id, format!("unknown change kind {kind:?}"))
            })?,
        })
    }

    pub(super) fn put_request(&self, table: &str, item: Item) -> Result<WriteRequest> {
        let put = PutRequest::builder()
            .set_item(Some(item))
            .build()
            .map_err(|e| self.build_err(table, e))?;
        Ok(WriteRequest::builder().put_request(put).build())
    }

    fn history_put(
        &self,
        id: &str,
        at: &str,
        kind: ChangeKind,
        snapshot: &str,
    ) -> Result<WriteRequest> {
        let item = Item::from([
            ("resource_id".to_owned(), s(id)),
            ("change".to_owned(), s(format!("{at}#{}", kind.as_str()))),
            ("observed_at".to_owned(), s(at)),
            ("kind".to_owned(), s(kind.as_str())),
            ("snapshot".to_owned(), s(snapshot)),
        ]);
        self.put_request(&self.tables().history, item)
    }

    /// The stored items of these ids, by id.
    async fn items_by_id(&self, ids: impl Iterator<Item = &str>) -> Result<HashMap<String, Item>> {
        let keys = ids.map(|id| key([("resource_id", id)])).collect();
        let items = self.batch_get(&self.tables().resources, keys).await?;
        Ok(items
            .into_iter()
            .filter_map(|item| get_s(&item, "resource_id").map(str::to_owned).map(|id| (id, item)))
            .collect())
    }
}

#[async_trait]
impl ResourceStore for DynamoStore {
    async fn put_batch(
        &self,
        resources: &[Resource],
        observed_at: DateTime<Utc>,
    ) -> Result<Vec<(String, Option<ChangeKind>)>> {
        check_envelope(resources)?;
        let batch = dedupe(resources);
        let now = time::format(observed_at);
        let stored = self.items_by_id(batch.iter().map(|r| r.resource_id.as_str())).await?;
        let mut out = Vec::with_capacity(batch.len());
        // (position in `out`, item, change, snapshot) of every resource to write.
        let mut writes = Vec::with_capacity(batch.len());
        for r in batch {
            let id = r.resource_id.as_str();
            let prior = stored.get(id).map(|item| self.prior(item)).transpose()?;
            out.push((id.to_owned(), None));
            if newer_state_stored(prior.as_ref(), &now) {
                continue;
            }
            let hash = hash_text(r);
            let change = classify(prior.as_ref(), &hash, &now);
            let snapshot = serde_json::to_string(r).unwrap_or_default();
            let (change_at, change_kind) = match (change, &prior) {
                (Some(k), _) => (now.clone(), k),
                (None, Some(p)) => (p.last_change_at.clone(), p.last_change_kind),
                (None, None) => (now.clone(), ChangeKind::Created),
            };
            let item = Item::from([
                ("resource_id".to_owned(), s(id)),
                ("resource_type".to_owned(), s(r.resource_type.as_str())),
                ("account_id".to_owned(), s(&r.account_id)),
                ("region".to_owned(), s(&r.region)),
                ("scope".to_owned(), s(scope(&r.account_id, &r.region, r.resource_type.as_str()))),
                ("snapshot".to_owned(), s(&snapshot)),
                ("content_hash".to_owned(), s(hash)),
                ("first_seen".to_owned(), s(first_seen(prior.as_ref(), &now))),
                ("last_seen".to_owned(), s(&now)),
                ("last_change_at".to_owned(), s(change_at)),
                ("last_change_kind".to_owned(), s(change_kind.as_str())),
            ]);
            writes.push((out.len() - 1, item, change, snapshot));
        }
        // Each resource is one conditional PutItem, so an overlapping scan that stored a
        // newer sighting or deletion in the meantime wins (#11.5). History follows the
        // accepted writes: a retry of a batch that failed before its history was written
        // classifies the same change again (see `classify`) and writes it then.
        let table = self.tables().resources.clone();
        let now_value = s(&now);
        let items: Vec<Item> = writes.iter().map(|(_, item, _, _)| item.clone()).collect();
        let accepted = self
            .each_conditional(items, move |store, item| {
                let table = table.clone();
                let now_value = now_value.clone();
                async move {
                    let sent = store
                        .client()
                        .put_item()
                        .table_name(&table)
                        .set_item(Some(item))
                        .condition_expression(
                            "attribute_not_exists(resource_id) OR (last_seen <= :now \
                             AND (attribute_not_exists(deleted_at) OR deleted_at <= :now))",
                        )
                        .expression_attribute_values(":now", now_value)
                        .send()
                        .await;
                    match sent {
                        Ok(_) => Ok(true),
                        Err(e) if is_condition_failure(&e) => Ok(false),
                        Err(e) => Err(store.err("PutItem", &table, e)),
                    }
                }
            })
            .await?;
        let mut history = Vec::new();
        for ((position, _, change, snapshot), accepted) in writes.into_iter().zip(accepted) {
            if !accepted {
                debug!(resource_id = %out[position].0, "Newer state already stored.");
                continue;
            }
            if let Some(k) = change {
                history.push(self.history_put(&out[position].0, &now, k, &snapshot)?);
                out[position].1 = Some(k);
            }
        }
        self.batch_write(&self.tables().history, history).await?;
        Ok(out)
    }

    async fn get(&self, resource_id: &str) -> Result<Option<Resource>> {
        Ok(self
            .get_stored(resource_id)
            .await?
            .filter(|s| s.deleted_at.is_none())
            .map(|s| s.resource))
    }

    async fn get_stored(&self, resource_id: &str) -> Result<Option<StoredResource>> {
        let table = &self.tables().resources;
        let out = self
            .client()
            .get_item()
            .table_name(table)
            .set_key(Some(key([("resource_id", resource_id)])))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err("GetItem", table, e))?;
        out.item.as_ref().map(|item| self.stored(item)).transpose()
    }

    async fn list(
        &self,
        filter: &ResourceFilter,
        page: &PageRequest,
    ) -> Result<Page<StoredResource>> {
        self.list_items(filter, page).await?.try_map(|i| self.stored(&i))
    }

    async fn list_snapshots(
        &self,
        filter: &ResourceFilter,
        page: &PageRequest,
    ) -> Result<SnapshotPage> {
        let found = self.list_items(filter, page).await?;
        let mut out = SnapshotPage::with_capacity(found.items.len(), found.items.len() * 512);
        for item in &found.items {
            let stored = self.snapshot(item)?;
            out.push(SnapshotRef {
                resource_id: &stored.resource_id,
                snapshot: stored.snapshot.get(),
                first_seen: stored.first_seen,
                last_seen: stored.last_seen,
                deleted_at: stored.deleted_at,
            });
        }
        out.next = found.next;
        Ok(out)
    }

    async fn mark_deleted(
        &self,
        resource_ids: &[String],
        at: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let at = time::format(at);
        let mut ids: Vec<&str> = Vec::new();
        for id in resource_ids {
            if !ids.contains(&id.as_str()) {
                ids.push(id);
            }
        }
        let stored = self.items_by_id(ids.iter().copied()).await?;
        // (id, last snapshot) of the resources to mark: live, or deleted at exactly `at`
        // by an earlier attempt, and not seen after `at`.
        let mut candidates = Vec::new();
        for id in ids {
            let Some(item) = stored.get(id) else { continue };
            let prior = self.prior(item)?;
            if prior.deleted_at.as_deref().is_some_and(|d| d != at) || prior.last_seen > at {
                continue;
            }
            candidates
                .push((id.to_owned(), get_s(item, "snapshot").unwrap_or_default().to_owned()));
        }
        let table = self.tables().resources.clone();
        let at_value = s(&at);
        let keys: Vec<String> = candidates.iter().map(|(id, _)| id.clone()).collect();
        let accepted = self
            .each_conditional(keys, move |store, id| {
                let table = table.clone();
                let at_value = at_value.clone();
                async move {
                    let sent = store
                        .client()
                        .update_item()
                        .table_name(&table)
                        .set_key(Some(key([("resource_id", id.as_str())])))
                        .update_expression(
                            "SET deleted_at = :at, last_change_at = :at, last_change_kind = :deleted",
                        )
                        .condition_expression(
                            "attribute_exists(resource_id) AND last_seen <= :at \
                             AND (attribute_not_exists(deleted_at) OR deleted_at = :at)",
                        )
                        .expression_attribute_values(":at", at_value)
                        .expression_attribute_values(":deleted", s(ChangeKind::Deleted.as_str()))
                        .send()
                        .await;
                    match sent {
                        Ok(_) => Ok(true),
                        Err(e) if is_condition_failure(&e) => Ok(false),
                        Err(e) => Err(store.err("UpdateItem", &table, e)),
                    }
                }
            })
            .await?;
        let mut history = Vec::new();
        let mut marked = Vec::new();
        for ((id, snapshot), accepted) in candidates.into_iter().zip(accepted) {
            if accepted {
                history.push(self.history_put(&id, &at, ChangeKind::Deleted, &snapshot)?);
                marked.push(id);
            }
        }
        self.batch_write(&self.tables().history, history).await?;
        Ok(marked)
    }

    async fn ids_in_scope(
        &self,
        account_id: &str,
        region: &str,
        resource_type: &str,
    ) -> Result<Vec<String>> {
        let query = self
            .client()
            .query()
            .index_name("by-scope")
            .key_condition_expression("#s = :s")
            .filter_expression("attribute_not_exists(deleted_at)")
            .expression_attribute_names("#s", "scope")
            .expression_attribute_values(":s", s(scope(account_id, region, resource_type)))
            .projection_expression("resource_id");
        let items = self.query_all(&self.tables().resources, query).await?;
        let mut ids: Vec<String> =
            items.iter().filter_map(|i| get_s(i, "resource_id")).map(str::to_owned).collect();
        ids.sort();
        Ok(ids)
    }

    async fn history(&self, resource_id: &str) -> Result<Vec<ResourceChange>> {
        let table = &self.tables().history;
        let query = self
            .client()
            .query()
            .key_condition_expression("resource_id = :id")
            .expression_attribute_values(":id", s(resource_id))
            .consistent_read(true);
        let mut changes = Vec::new();
        for item in self.query_all(table, query).await? {
            let bad = |reason: String| self.malformed(table, resource_id, reason);
            let text =
                |name: &str| get_s(&item, name).ok_or_else(|| bad(format!("missing {name}")));
            let kind = text("kind")?;
            changes.push(ResourceChange {
                resource_id: resource_id.to_owned(),
                observed_at: time::parse(text("observed_at")?).map_err(bad)?,
                kind: ChangeKind::parse(kind)
                    .ok_or_else(|| bad(format!("unknown kind {kind:?}")))?,
                snapshot: serde_json::from_str(text("snapshot")?)
                    .map_err(|e| bad(e.to_string()))?,
            });
        }
        Ok(changes)
    }
}

/// A page token resuming after `item`: its table and index key attributes.
fn position_token(item: &Item, key_attrs: &[&str]) -> String {
    // Sorted, so one position always gives one token.
    let key: std::collections::BTreeMap<&str, &str> = key_attrs
        .iter()
        .filter_map(|a| item.get(*a).and_then(|v| v.as_s().ok()).map(|v| (*a, v.as_str())))
        .collect();
    token::encode(&key)
}
