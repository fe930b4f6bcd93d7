//! [`ResourceStore`]: the latest snapshot of every resource, its history, and deletions.

use async_trait::async_trait;
use caracal_core::{ChangeKind, Resource, ResourceChange};
use chrono::{DateTime, Utc};

use crate::error::Result;

/// A stored resource: the latest snapshot and its bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    /// The latest snapshot (for a deleted resource, the last one seen).
    pub resource: Resource,
    /// When it was first stored.
    pub first_seen: DateTime<Utc>,
    /// The `observed_at` of the latest `put_batch` that carried it.
    pub last_seen: DateTime<Utc>,
    /// When a complete listing last lacked it; `None` while live.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A stored resource with its snapshot left as the stored JSON text: for callers that
/// pass snapshots on unread (the API's listing), which then skip building and dropping
/// a value tree per resource.
#[derive(Debug, Clone)]
pub struct StoredSnapshot {
    /// The resource's id.
    pub resource_id: String,
    /// The latest snapshot as stored: a JSON object in the shape policies receive.
    pub snapshot: Box<serde_json::value::RawValue>,
    /// When it was first stored.
    pub first_seen: DateTime<Utc>,
    /// The `observed_at` of the latest `put_batch` that carried it.
    pub last_seen: DateTime<Utc>,
    /// When a complete listing last lacked it; `None` while live.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl StoredSnapshot {
    /// Reads the snapshot into a [`StoredResource`].
    pub fn parse(&self) -> serde_json::Result<StoredResource> {
        Ok(StoredResource {
            resource: serde_json::from_str(self.snapshot.get())?,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            deleted_at: self.deleted_at,
        })
    }
}

/// One resource of a [`SnapshotPage`], borrowed from the page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SnapshotRef<'a> {
    /// The resource's id.
    pub resource_id: &'a str,
    /// The latest snapshot as the store holds it: JSON text, checked to be valid JSON
    /// when read.
    pub snapshot: &'a str,
    /// When it was first stored.
    pub first_seen: DateTime<Utc>,
    /// The `observed_at` of the latest `put_batch` that carried it.
    pub last_seen: DateTime<Utc>,
    /// When a complete listing last lacked it; `None` while live.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A page of [`ResourceStore::list_snapshots`]: the resources' ids and snapshot texts
/// back to back in one buffer, for callers that copy snapshots out unread (the API's
/// listing), so a page costs a few allocations instead of several per resource.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotPage {
    text: String,
    rows: Vec<SnapshotRow>,
    /// The token for the next page, if there may be more.
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct SnapshotRow {
    /// Where the id starts and ends, and where the snapshot (which follows it) ends,
    /// in `text`.
    id_start: usize,
    id_end: usize,
    snapshot_end: usize,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

impl SnapshotPage {
    /// An empty page with room for `rows` resources of about `bytes` of text in all.
    pub fn with_capacity(rows: usize, bytes: usize) -> Self {
        Self { text: String::with_capacity(bytes), rows: Vec::with_capacity(rows), next: None }
    }

    /// Appends a resource.
    pub fn push(&mut self, row: SnapshotRef<'_>) {
        let id_start = self.text.len();
        self.text.push_str(row.resource_id);
        let id_end = self.text.len();
        self.text.push_str(row.snapshot);
        self.rows.push(SnapshotRow {
            id_start,
            id_end,
            snapshot_end: self.text.len(),
            first_seen: row.first_seen,
            last_seen: row.last_seen,
            deleted_at: row.deleted_at,
        });
    }

    /// How many resources the page holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the page holds none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The total length of the ids and snapshot texts.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// The resources in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = SnapshotRef<'_>> + '_ {
        self.rows.iter().map(move |row| SnapshotRef {
            resource_id: &self.text[row.id_start..row.id_end],
            snapshot: &self.text[row.id_end..row.snapshot_end],
            first_seen: row.first_seen,
            last_seen: row.last_seen,
            deleted_at: row.deleted_at,
        })
    }
}

/// Which resources [`ResourceStore::list`] returns; `None` fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    /// Only this type, such as `AWS.S3.Bucket`.
    pub resource_type: Option<String>,
    /// Only this account.
    pub account_id: Option<String>,
    /// Only this region (`global` for global resources).
    pub region: Option<String>,
    /// Also return resources marked deleted.
    pub include_deleted: bool,
}

/// Which page to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// The `next` token of the previous page; `None` for the first page.
    pub token: Option<String>,
    /// At most this many items (at least 1 is used).
    pub limit: usize,
}

impl PageRequest {
    /// The first page of at most `limit` items.
    pub fn first(limit: usize) -> Self {
        Self { token: None, limit }
    }

    /// The page after the one that returned `token`.
    pub fn after(token: impl Into<String>, limit: usize) -> Self {
        Self { token: Some(token.into()), limit }
    }
}

/// One page of results.
///
/// Paging is stable: items are returned once each, in an order that does not change
/// between calls, even while unrelated items are written. `next` is `None` on the last
/// page; a page may hold fewer than `limit` items and still have a `next`.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The token for the next page, if there may be more.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// The same page with each item converted by `f`; the first error fails it.
    pub fn try_map<U, E>(
        self,
        f: impl FnMut(T) -> std::result::Result<U, E>,
    ) -> std::result::Result<Page<U>, E> {
        let items = self.items.into_iter().map(f).collect::<std::result::Result<_, _>>()?;
        Ok(Page { items, next: self.next })
    }
}

/// The latest snapshot of every resource, with history.
///
/// Writes are idempotent: repeating a `put_batch` or `mark_deleted` (say after a batch
/// failed half-way) writes no duplicate history and returns the same changes when given
/// the same `observed_at`.
///
/// Writes never move a resource back in time (#11.5): scans overlap, and a slow scan
/// may carry a sighting older than what a faster scan already stored. A snapshot observed
/// before the stored `last_seen` or `deleted_at`, or a deletion decided before the stored
/// `last_seen`, is not written; the store keeps the newer state. Both backends decide
/// this atomically per resource (SQLite in one immediate transaction with a guarded
/// upsert, DynamoDB with condition expressions).
#[async_trait]
pub trait ResourceStore: Send + Sync {
    /// Upserts snapshots by `ResourceId`, comparing [`Resource::content_hash`].
    ///
    /// Returns one entry per distinct id, in input order (a repeated id counts once, the
    /// last snapshot wins): `Created` for a new or re-appearing (previously deleted)
    /// resource, `Modified` for changed content, `None` when unchanged or when the store
    /// already holds a newer state of it (nothing is written then). Created and Modified
    /// write a history entry at `observed_at`.
    async fn put_batch(
        &self,
        resources: &[Resource],
        observed_at: DateTime<Utc>,
    ) -> Result<Vec<(String, Option<ChangeKind>)>>;

    /// A live resource's latest snapshot; `None` when unknown or deleted.
    async fn get(&self, resource_id: &str) -> Result<Option<Resource>>;

    /// A resource with its bookkeeping, deleted or not.
    async fn get_stored(&self, resource_id: &str) -> Result<Option<StoredResource>>;

    /// Resources matching `filter`, one page at a time (see [`Page`]).
    async fn list(
        &self,
        filter: &ResourceFilter,
        page: &PageRequest,
    ) -> Result<Page<StoredResource>>;

    /// [`ResourceStore::list`] with each snapshot as its stored JSON text.
    async fn list_snapshots(
        &self,
        filter: &ResourceFilter,
        page: &PageRequest,
    ) -> Result<SnapshotPage>;

    /// Marks live resources deleted at `at` and writes a `Deleted` history entry holding
    /// the last snapshot. Unknown and already deleted ids are skipped, and so are ids
    /// seen after `at` (a newer scan saw them live); returns the ids that were marked. An
    /// id already marked deleted at exactly `at` is reported again (a retry).
    async fn mark_deleted(&self, resource_ids: &[String], at: DateTime<Utc>)
    -> Result<Vec<String>>;

    /// Ids of the live resources of one type in one account and region, sorted, so a
    /// scanner can find what a complete, successful listing lacks.
    async fn ids_in_scope(
        &self,
        account_id: &str,
        region: &str,
        resource_type: &str,
    ) -> Result<Vec<String>>;

    /// A resource's changes, oldest first.
    async fn history(&self, resource_id: &str) -> Result<Vec<ResourceChange>>;
}

/// What a backend knows of a stored resource when a new snapshot arrives.
pub(crate) struct Prior {
    pub(crate) content_hash: String,
    pub(crate) deleted_at: Option<String>,
    pub(crate) first_seen: String,
    pub(crate) last_seen: String,
    pub(crate) last_change_at: String,
    pub(crate) last_change_kind: ChangeKind,
}

/// The change a new snapshot makes, shared by the backends so they agree.
///
/// A retry of the same batch (same content, same `observed_at` as the stored last
/// change) reports that change again instead of `None`, so callers see the same result.
pub(crate) fn classify(prior: Option<&Prior>, hash: &str, observed_at: &str) -> Option<ChangeKind> {
    match prior {
        None => Some(ChangeKind::Created),
        Some(p) if p.deleted_at.is_some() => Some(ChangeKind::Created),
        Some(p) if p.content_hash != hash => Some(ChangeKind::Modified),
        Some(p) if p.last_change_at == observed_at && p.last_change_kind != ChangeKind::Deleted => {
            Some(p.last_change_kind)
        }
        Some(_) => None,
    }
}

/// Whether the store holds a newer state than a sighting at `observed_at`: seen or
/// marked deleted later. Stored times are fixed-width RFC 3339, so text order is time
/// order. (#11.5)
pub(crate) fn newer_state_stored(prior: Option<&Prior>, observed_at: &str) -> bool {
    prior.is_some_and(|p| {
        p.last_seen.as_str() > observed_at
            || p.deleted_at.as_deref().is_some_and(|d| d > observed_at)
    })
}

/// The `first_seen` a snapshot at `observed_at` gets: kept while the resource stays live,
/// restarted when it is new or re-appears.
pub(crate) fn first_seen(prior: Option<&Prior>, observed_at: &str) -> String {
    match prior {
        Some(p) if p.deleted_at.is_none() => p.first_seen.clone(),
        _ => observed_at.to_owned(),
    }
}

/// A snapshot's content hash as stored: 16 hex digits.
pub(crate) fn hash_text(resource: &Resource) -> String {
    format!("{:016x}", resource.content_hash())
}

/// Refuses a batch holding a snapshot whose attributes clash with the envelope.
pub(crate) fn check_envelope(resources: &[Resource]) -> crate::error::Result<()> {
    for r in resources {
        if let Some(key) = r.envelope_clash() {
            return Err(crate::error::Error::EnvelopeClash {
                resource_id: r.resource_id.clone(),
                key: key.to_owned(),
            });
        }
    }
    Ok(())
}

/// The batch with repeated ids removed: first position, last snapshot.
pub(crate) fn dedupe(resources: &[Resource]) -> Vec<&Resource> {
    let mut position = std::collections::HashMap::<&str, usize>::new();
    let mut out: Vec<&Resource> = Vec::with_capacity(resources.len());
    for r in resources {
        match position.get(r.resource_id.as_str()) {
            Some(&i) => out[i] = r,
            None => {
                position.insert(&r.resource_id, out.len());
                out.push(r);
            }
        }
    }
    out
}
