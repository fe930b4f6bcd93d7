//! Posture joins for detections, backed by the real store (SQLite or DynamoDB):
//! [`StoreLookup`] answers `caracal_posture.resource_lookup` / `resource_at` /
//! `compliance_status` (and
//! the public `panther_oss_helpers` names that route to them); [`StoreKv`] backs
//! `panther_detection_helpers.caching`. Both are called from the blocking thread that
//! runs the detections and wait on the runtime for the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use caracal_core::{ChangeKind, ResourceChange};

use caracal_python::{KvStore as PyKvStore, PostureLookup};
use caracal_store::Store;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::runtime::Handle;
use tracing::warn;

/// Resource snapshots, history and compliance verdicts from the store, cached until
/// [`StoreLookup::clear`] (the detector clears it before each batch, so one batch sees
/// one consistent answer per resource and asks the store once).
pub struct StoreLookup {
    store: Arc<dyn Store>,
    runtime: Handle,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    resources: HashMap<String, Option<Value>>,
    history: HashMap<String, Arc<Vec<ResourceChange>>>,
    compliance: HashMap<String, Vec<(String, String)>>,
}

impl StoreLookup {
    /// Lookups from `store`; must be created inside a tokio runtime.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store, runtime: Handle::current(), cache: Mutex::default() }
    }

    /// Forgets cached answers.
    pub fn clear(&self) {
        *self.cache() = Cache::default();
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl PostureLookup for StoreLookup {
    fn resource(&self, resource_id: &str) -> Result<Option<Value>, String> {
        if let Some(found) = self.cache().resources.get(resource_id) {
            return Ok(found.clone());
        }
        let found = self.runtime.block_on(self.store.resources().get(resource_id));
        let found = found.map_err(|e| caracal_core::error::chain(&e))?;
        let found =
            found.map(|r| serde_json::to_value(&r).map_err(|e| e.to_string())).transpose()?;
        self.cache().resources.insert(resource_id.to_owned(), found.clone());
        Ok(found)
    }

    fn resource_at(&self, resource_id: &str, when: DateTime<Utc>) -> Result<Option<Value>, String> {
        let cached = self.cache().history.get(resource_id).cloned();
        let history = match cached {
            Some(history) => history,
            None => {
                let found = self.runtime.block_on(self.store.resources().history(resource_id));
                let history = Arc::new(found.map_err(|e| caracal_core::error::chain(&e))?);
                self.cache().history.insert(resource_id.to_owned(), history.clone());
                history
            }
        };
        let in_force =
            history.iter().filter(|c| c.observed_at <= when).max_by_key(|c| c.observed_at);
        match in_force {
            Some(change) if change.kind != ChangeKind::Deleted => {
                serde_json::to_value(&change.snapshot).map(Some).map_err(|e| e.to_string())
            }
            _ => Ok(None),
        }
    }

    fn compliance(&self, resource_id: &str) -> Result<Vec<(String, String)>, String> {
        if let Some(found) = self.cache().compliance.get(resource_id) {
            return Ok(found.clone());
        }
        let found = self.runtime.block_on(self.store.compliance().for_resource(resource_id));
        let found = found.map_err(|e| caracal_core::error::chain(&e))?;
        let verdicts: Vec<(String, String)> =
            found.into_iter().map(|f| (f.policy_id, f.status.as_str().to_owned())).collect();
        self.cache().compliance.insert(resource_id.to_owned(), verdicts.clone());
        Ok(verdicts)
    }
}

/// `panther_detection_helpers.caching` over the store's key-value table, so state that
/// rules keep (counters, last-seen values) survives restarts and is shared between
/// processes. A failing store is logged and reads as absent.
pub struct StoreKv {
    store: Arc<dyn Store>,
    runtime: Handle,
}

impl StoreKv {
    /// A key-value bridge to `store`; must be created inside a tokio runtime.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store, runtime: Handle::current() }
    }

    fn run<T>(
        &self,
        key: &str,
        what: &str,
        f: impl std::future::Future<Output = caracal_store::Result<T>>,
    ) -> Option<T> {
        match self.runtime.block_on(f) {
            Ok(v) => Some(v),
            Err(err) => {
                warn!(key, operation = what, error = %caracal_core::error::chain(&err), "Rule state store failed.");
                None
            }
        }
    }
}

fn at(unix: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

fn ttl(expires_at: Option<i64>) -> Option<Duration> {
    let now = Utc::now().timestamp();
    expires_at.map(|t| Duration::from_secs(t.saturating_sub(now).max(1) as u64))
}

impl PyKvStore for StoreKv {
    fn get(&self, key: &str) -> Option<String> {
        let kv = self.store.kv();
        if let Some(Some(text)) = self.run(key, "get", kv.get(key)) {
            return Some(text);
        }
        // Counters live beside strings in the store; the Python side reads them as text.
        match self.run(key, "counter", kv.counter(key)) {
            Some(n) if n != 0 => Some(n.to_string()),
            _ => None,
        }
    }

    fn put(&self, key: &str, value: String, expires_at: Option<i64>) {
        self.run(key, "put", self.store.kv().put(key, &value, ttl(expires_at)));
    }

    fn increment(&self, key: &str, by: i64, expires_at: Option<i64>) -> i64 {
        let kv = self.store.kv();
        let total = self.run(key, "incr", kv.incr(key, by, None)).unwrap_or(0);
        if let Some(t) = expires_at {
            self.run(key, "expire_at", kv.expire_at(key, at(t)));
        }
        total
    }

    fn set_expiry(&self, key: &str, expires_at: i64) {
        self.run(key, "expire_at", self.store.kv().expire_at(key, at(expires_at)));
    }

    fn delete(&self, key: &str) {
        self.run(key, "delete", self.store.kv().delete(key));
    }
}
