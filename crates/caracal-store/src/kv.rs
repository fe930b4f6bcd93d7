//! [`KvStore`]: strings, counters and string sets with optional expiry.
//!
//! This backs the detection helpers of panther-analysis
//! (`panther_detection_helpers.caching`): `get_string_set` / `put_string_set` /
//! `add_to_string_set` / `remove_from_string_set` map to the `set_*` methods,
//! `get_dictionary` / `put_dictionary` to [`KvStore::get`] / [`KvStore::put`] of JSON
//! text, `increment_counter` / `get_counter` / `reset_counter` to [`KvStore::incr`] /
//! [`KvStore::counter`] / [`KvStore::delete`], and `set_key_expiration` to
//! [`KvStore::expire_at`].
//!
//! Keys share one namespace; each key has one expiry covering its value, counter and set.
//! An expired key reads as absent, whether or not the backend has removed it yet.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;

/// Small key-value state for detections.
#[async_trait]
pub trait KvStore: Send + Sync {
    /// The string stored at `key`, unless absent or expired.
    async fn get(&self, key: &str) -> Result<Option<String>>;

    /// Stores a string, replacing whatever the key held (value, counter, set); with `ttl`
    /// the key expires that long from now, without it never.
    async fn put(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<()>;

    /// Removes the key with its value, counter and set.
    async fn delete(&self, key: &str) -> Result<()>;

    /// Sets the key's expiry to an absolute time (a time in the past expires it now).
    /// Does nothing when the key is absent.
    async fn expire_at(&self, key: &str, at: DateTime<Utc>) -> Result<()>;

    /// Adds `by` to the counter (absent or expired counts as 0) and returns the new value.
    /// `ttl`, when given, sets an expiry on a key that has none, so a window does not slide.
    async fn incr(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64>;

    /// The counter's value; 0 when absent or expired.
    async fn counter(&self, key: &str) -> Result<i64>;

    /// Adds members to the set (an expired set starts empty; no members is a no-op).
    /// `ttl`, when given, sets the key's expiry to that long from now; without it the
    /// expiry stays as it was.
    async fn set_add(&self, key: &str, members: &[String], ttl: Option<Duration>) -> Result<()>;

    /// Removes members from the set.
    async fn set_remove(&self, key: &str, members: &[String]) -> Result<()>;

    /// The set's members; empty when absent or expired.
    async fn set_get(&self, key: &str) -> Result<BTreeSet<String>>;
}

/// The expiry `ttl` from `now`, in whole epoch seconds rounded up (DynamoDB's TTL unit).
pub(crate) fn expiry(now: DateTime<Utc>, ttl: Option<Duration>) -> Option<i64> {
    ttl.map(|ttl| {
        let secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let round_up = i64::from(ttl.subsec_nanos() > 0 || now.timestamp_subsec_nanos() > 0);
        now.timestamp().saturating_add(secs).saturating_add(round_up)
    })
}

/// Whether an expiry in epoch seconds has passed.
pub(crate) fn expired(expires_at: Option<i64>, now: DateTime<Utc>) -> bool {
    expires_at.is_some_and(|at| at <= now.timestamp())
}
