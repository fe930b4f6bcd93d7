//! [`ResourceStore`] on SQLite: tables `resources` and `resource_history`.

use async_trait::async_trait;
use caracal_core::{ChangeKind, Resource, ResourceChange};
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::{FResult, Fail, SqliteStore};
use crate::{
    error::Result,
    resources::{
        Page, PageRequest, Prior, ResourceFilter, ResourceStore, SnapshotPage, SnapshotRef,
        StoredResource, StoredSnapshot, check_envelope, classify, dedupe, first_seen, hash_text,
        newer_state_stored,
    },
    time, token,
};

const STORED_COLUMNS: &str = "resource_id, snapshot, first_seen, last_seen, deleted_at";
/// Pages up to this size that walk an index in order (no account or region filter) are
/// read inline ([`SqliteStore::read_now`]).
const INLINE_PAGE: usize = 100;

fn stored_from_row(row: &Row<'_>, out: &mut Vec<StoredResource>) -> FResult<()> {
    let stored = snapshot_from_row(row)?;
    out.push(stored.parse().map_err(|e| Fail::malformed(&stored.resource_id, e))?);
    Ok(())
}

fn snapshot_from_row(row: &Row<'_>) -> FResult<StoredSnapshot> {
    let id: String = row.get(0)?;
    let snapshot: String = row.get(1)?;
    let parse_time = |t: String| time::parse(&t).map_err(|e| Fail::malformed(&id, e));
    Ok(StoredSnapshot {
        snapshot: serde_json::value::RawValue::from_string(snapshot)
            .map_err(|e| Fail::malformed(&id, e))?,
        first_seen: parse_time(row.get(2)?)?,
        last_seen: parse_time(row.get(3)?)?,
        deleted_at: row.get::<_, Option<String>>(4)?.map(parse_time).transpose()?,
        resource_id: id,
    })
}

/// Copies a row into a [`SnapshotPage`] straight from SQLite's buffers.
fn snapshot_into_page(row: &Row<'_>, page: &mut SnapshotPage) -> FResult<()> {
    let text = |i: usize| -> FResult<&str> {
        let value = row.get_ref(i)?;
        value.as_str().map_err(|e| {
            Fail::Sql(rusqlite::Error::FromSqlConversionFailure(i, value.data_type(), Box::new(e)))
        })
    };
    let id = text(0)?;
    let snapshot = text(1)?;
    // Validated without a copy: a damaged row is a clear error, never a broken page.
    serde_json::from_str::<&serde_json::value::RawValue>(snapshot)
        .map_err(|e| Fail::malformed(id, e))?;
    let when = |i: usize| -> FResult<DateTime<Utc>> {
        time::parse(text(i)?).map_err(|e| Fail::malformed(id, e))
    };
    let deleted_at = match row.get_ref(4)? {
        rusqlite::types::ValueRef::Null => None,
        _ => Some(when(4)?),
    };
    page.push(SnapshotRef {
        resource_id: id,
        snapshot,
        first_seen: when(2)?,
        last_seen: when(3)?,
        deleted_at,
    });
    Ok(())
}

impl SqliteStore {
    /// One page of [`ResourceStore::list`]: `read` adds each row (its columns are
    /// `STORED_COLUMNS`) to what `start(limit)` made. Returns it with the next token.
    async fn list_rows<A: Send + 'static>(
        &self,
        filter: &ResourceFilter,
        page: &PageRequest,
        start: fn(usize) -> A,
        read: fn(&Row<'_>, &mut A) -> FResult<()>,
    ) -> Result<(A, Option<String>)> {
        let after: String = match &page.token {
            Some(t) => token::decode(t)?,
            None => String::new(),
        };
        let limit = page.limit.max(1);
        let inline = limit <= INLINE_PAGE && filter.account_id.is_none() && filter.region.is_none();
        // Only the filters given, so that SQLite can walk `resources_by_type` or
        // `resources_by_scope` (a `?2 IS NULL OR ...` term would make it scan the table).
        let mut sql = format!("SELECT {STORED_COLUMNS} FROM resources WHERE resource_id > ?");
        let mut values = vec![Value::Text(after)];
        for (column, wanted) in [
            ("resource_type", &filter.resource_type),
            ("account_id", &filter.account_id),
            ("region", &filter.region),
        ] {
            if let Some(wanted) = wanted {
                sql.push_str(&format!(" AND {column} = ?"));
                values.push(Value::Text(wanted.clone()));
            }
        }
        if !filter.include_deleted {
            sql.push_str(" AND deleted_at IS NULL");
        }
        sql.push_str(" ORDER BY resource_id LIMIT ?");
        values.push(Value::Integer(limit as i64 + 1));
        let query = move |conn: &Connection| {
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params_from_iter(&values))?;
            let mut items = start(limit);
            let mut taken = 0;
            let mut last_id = String::new();
            let mut more = false;
            while let Some(row) = rows.next()? {
                if taken == limit {
                    more = true;
                    break;
                }
                if taken + 1 == limit {
                    last_id = row.get(0)?;
                }
                read(row, &mut items)?;
                taken += 1;
            }
            Ok((items, more.then(|| token::encode(&last_id))))
        };
        // A default-sized page in index order reads in well under a millisecond; larger
        // pages, and filters SQLite may answer by scanning, go to a blocking thread.
        if inline { self.read_now(query).await } else { self.read(query).await }
    }
}

fn kind(id: &str, text: &str) -> FResult<ChangeKind> {
    ChangeKind::parse(text)
        .ok_or_else(|| Fail::malformed(id, format!("unknown change kind {text:?}")))
}

fn snapshot_json(resource: &Resource) -> String {
    serde_json::to_string(resource).unwrap_or_default()
}

#[async_trait]
impl ResourceStore for SqliteStore {
    async fn put_batch(
        &self,
        resources: &[Resource],
        observed_at: DateTime<Utc>,
    ) -> Result<Vec<(String, Option<ChangeKind>)>> {
        check_envelope(resources)?;
        let batch: Vec<Resource> = dedupe(resources).into_iter().cloned().collect();
        let now = time::format(observed_at);
        self.write(move |tx| {
            let mut select = tx.prepare_cached(
                "SELECT content_hash, deleted_at, first_seen, last_seen, last_change_at,
                   last_change_kind
                 FROM resources WHERE resource_id = ?1",
            )?;
            // The WHERE guard repeats `newer_state_stored` in SQL: the row only moves forward.
            let mut upsert = tx.prepare_cached(
                "INSERT INTO resources (resource_id, resource_type, account_id, region,
                   snapshot, content_hash, first_seen, last_seen, last_change_at, last_change_kind,
                   deleted_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL)
                 ON CONFLICT (resource_id) DO UPDATE SET
                   resource_type = excluded.resource_type, account_id = excluded.account_id,
                   region = excluded.region, snapshot = excluded.snapshot,
                   content_hash = excluded.content_hash, first_seen = excluded.first_seen,
                   last_seen = excluded.last_seen, last_change_at = excluded.last_change_at,
                   last_change_kind = excluded.last_change_kind, deleted_at = NULL
                 WHERE resources.last_seen <= excluded.last_seen
                   AND (resources.deleted_at IS NULL OR resources.deleted_at <= excluded.last_seen)",
            )?;
            let mut history = tx.prepare_cached(
                "INSERT OR REPLACE INTO resource_history (resource_id, observed_at, kind, snapshot)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut out = Vec::with_capacity(batch.len());
            for r in &batch {
                let id = r.resource_id.as_str();
                let prior = select
                    .query_row([id], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, Option<String>>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, String>(3)?,
                            row.get::<_, String>(4)?,
                            row.get::<_, String>(5)?,
                        ))
                    })
                    .optional()?
                    .map(|(content_hash, deleted_at, first_seen, last_seen, last_change_at, k)| {
                        Ok::<_, Fail>(Prior {
                            content_hash,
                            deleted_at,
                            first_seen,
                            last_seen,
                            last_change_at,
                            last_change_kind: kind(id, &k)?,
                        })
                    })
                    .transpose()?;
                if newer_state_stored(prior.as_ref(), &now) {
                    out.push((id.to_owned(), None));
                    continue;
                }
                let hash = hash_text(r);
                let change = classify(prior.as_ref(), &hash, &now);
                let snapshot = snapshot_json(r);
                let (change_at, change_kind) = match (change, &prior) {
                    (Some(k), _) => (now.clone(), k),
                    (None, Some(p)) => (p.last_change_at.clone(), p.last_change_kind),
                    (None, None) => (now.clone(), ChangeKind::Created),
                };
                let written = upsert.execute(params![
                    id,
                    r.resource_type.as_str(),
                    r.account_id,
                    r.region,
                    snapshot,
                    hash,
                    first_seen(prior.as_ref(), &now),
                    now,
                    change_at,
                    change_kind.as_str(),
                ])?;
                let change = change.filter(|_| written > 0);
                if let Some(k) = change {
                    history.execute(params![id, now, k.as_str(), snapshot])?;
                }
                out.push((id.to_owned(), change));
            }
            Ok(out)
        })
        .await
    }

    async fn get(&self, resource_id: &str) -> Result<Option<Resource>> {
        Ok(self
            .get_stored(resource_id)
            .await?
            .filter(|s| s.deleted_at.is_none())
            .map(|s| s.resource))
    }

    async fn get_stored(&self, resource_id: &str) -> Result<Option<StoredResource>> {
        let id = resource_id.to_owned();
        self.read(move |conn| {
            let sql = format!("SELECT {STORED_COLUMNS} FROM resources WHERE resource_id = ?1");
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query([id])?;
            let Some(row) = rows.next()? else { return Ok(None) };
            let mut found = Vec::with_capacity(1);
            stored_from_row(row, &mut found)?;
            Ok(found.pop())
        })
        .await
    }

    async fn list(
        &self,
        filter: &ResourceFilter,
        page: &PageRequest,
    ) -> Result<Page<StoredResource>> {
        let (items, next) =
            self.list_rows(filter, page, Vec::with_capacity, stored_from_row).await?;
        Ok(Page { items, next })
    }

    async fn list_snapshots(
        &self,
        filter: &ResourceFilter,
        page: &PageRequest,
    ) -> Result<SnapshotPage> {
        // About 512 bytes per resource: one allocation for a typical page.
        let start = |limit: usize| SnapshotPage::with_capacity(limit, limit * 512);
        let (mut items, next) = self.list_rows(filter, page, start, snapshot_into_page).await?;
        items.next = next;
        Ok(items)
    }

    async fn mark_deleted(
        &self,
        resource_ids: &[String],
        at: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let ids = resource_ids.to_vec();
        let at = time::format(at);
        self.write(move |tx| {
            // Live (or deleted at exactly `at`, by an earlier attempt of this call) and not
            // seen after `at`: a slower scan's stale listing must not delete a resource a
            // newer scan saw.
            let mut select = tx.prepare_cached(
                "SELECT snapshot FROM resources WHERE resource_id = ?1
                   AND (deleted_at IS NULL OR deleted_at = ?2) AND last_seen <= ?2",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE resources SET deleted_at = ?2, last_change_at = ?2,
                   last_change_kind = 'deleted' WHERE resource_id = ?1",
            )?;
            let mut history = tx.prepare_cached(
                "INSERT OR REPLACE INTO resource_history (resource_id, observed_at, kind, snapshot)
                 VALUES (?1, ?2, 'deleted', ?3)",
            )?;
            let mut marked = Vec::new();
            for id in &ids {
                let Some(snapshot) =
                    select.query_row(params![id, at], |r| r.get::<_, String>(0)).optional()?
                else {
                    continue;
                };
                update.execute(params![id, at])?;
                history.execute(params![id, at, snapshot])?;
                if !marked.contains(id) {
                    marked.push(id.clone());
                }
            }
            Ok(marked)
        })
        .await
    }

    async fn ids_in_scope(
        &self,
        account_id: &str,
        region: &str,
        resource_type: &str,
    ) -> Result<Vec<String>> {
        let scope = (account_id.to_owned(), region.to_owned(), resource_type.to_owned());
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT resource_id FROM resources
                 WHERE account_id = ?1 AND region = ?2 AND resource_type = ?3
                   AND deleted_at IS NULL
                 ORDER BY resource_id",
            )?;
            let ids = stmt
                .query_map(params![scope.0, scope.1, scope.2], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(ids)
        })
        .await
    }

    async fn history(&self, resource_id: &str) -> Result<Vec<ResourceChange>> {
        let id = resource_id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT observed_at, kind, snapshot FROM resource_history
                 WHERE resource_id = ?1 ORDER BY observed_at, kind",
            )?;
            let mut rows = stmt.query([&id])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let observed_at: String = row.get(0)?;
                let k: String = row.get(1)?;
                let snapshot: String = row.get(2)?;
                out.push(ResourceChange {
                    resource_id: id.clone(),
                    observed_at: time::parse(&observed_at).map_err(|e| Fail::malformed(&id, e))?,
                    kind: kind(&id, &k)?,
                    snapshot: serde_json::from_str(&snapshot)
                        .map_err(|e| Fail::malformed(&id, e))?,
                });
            }
            Ok(out)
        })
        .await
    }
}
