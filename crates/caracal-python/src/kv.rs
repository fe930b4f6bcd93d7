//! The key-value store behind `panther_detection_helpers.caching`.
//!
//! Values are opaque text (the Python side stores counters as decimal text, string sets
//! and dictionaries as JSON); each key may expire at an absolute Unix time. [`MemoryKv`]
//! is the in-process default; a persistent store implements [`KvStore`] and is handed to
//! [`Engine::set_kv_store`](crate::Engine::set_kv_store).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::prelude::*;

/// State that rules keep across events, with expiry.
pub trait KvStore: Send + Sync {
    /// The live value of `key`, if any.
    fn get(&self, key: &str) -> Option<String>;
    /// Sets `key`, expiring at `expires_at` (Unix seconds) when given.
    fn put(&self, key: &str, value: String, expires_at: Option<i64>);
    /// Adds `by` to the counter at `key` (0 when absent) and returns the new total. A
    /// given `expires_at` replaces the key's expiry; else the old one is kept.
    fn increment(&self, key: &str, by: i64, expires_at: Option<i64>) -> i64;
    /// Sets the expiry of an existing key.
    fn set_expiry(&self, key: &str, expires_at: i64);
    /// Removes `key`.
    fn delete(&self, key: &str);
}

/// An in-process [`KvStore`]: a map behind a mutex, expired entries dropped on read.
#[derive(Debug, Default)]
pub struct MemoryKv {
    items: Mutex<HashMap<String, (String, Option<i64>)>>,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl MemoryKv {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, (String, Option<i64>)>) -> R) -> R {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut items)
    }

    fn live(items: &mut HashMap<String, (String, Option<i64>)>, key: &str) -> bool {
        match items.get(key) {
            Some((_, Some(at))) if *at <= now() => {
                items.remove(key);
                false
            }
            Some(_) => true,
            None => false,
        }
    }
}

impl KvStore for MemoryKv {
    fn get(&self, key: &str) -> Option<String> {
        self.with(|items| Self::live(items, key).then(|| items[key].0.clone()))
    }

    fn put(&self, key: &str, value: String, expires_at: Option<i64>) {
        self.with(|items| items.insert(key.to_owned(), (value, expires_at)));
    }

    fn increment(&self, key: &str, by: i64, expires_at: Option<i64>) -> i64 {
        self.with(|items| {
            let (old, old_expiry) = if Self::live(items, key) {
                let (v, at) = &items[key];
                (v.parse::<i64>().unwrap_or(0), *at)
            } else {
                (0, None)
            };
            let total = old.saturating_add(by);
            items.insert(key.to_owned(), (total.to_string(), expires_at.or(old_expiry)));
            total
        })
    }

    fn set_expiry(&self, key: &str, expires_at: i64) {
        self.with(|items| {
            if let Some(item) = items.get_mut(key) {
                item.1 = Some(expires_at);
            }
        });
    }

    fn delete(&self, key: &str) {
        self.with(|items| items.remove(key));
    }
}

/// The Python face of a [`KvStore`]: what `caching` calls.
#[pyclass(name = "KvStore", module = "_caracal_runtime", frozen)]
pub(crate) struct PyKv {
    pub(crate) store: Arc<dyn KvStore>,
}

#[pymethods]
impl PyKv {
    fn get(&self, py: Python<'_>, key: &str) -> Option<String> {
        py.detach(|| self.store.get(key))
    }

    fn put(&self, py: Python<'_>, key: &str, value: String, expires_at: Option<i64>) {
        py.detach(|| self.store.put(key, value, expires_at));
    }

    fn increment(&self, py: Python<'_>, key: &str, by: i64, expires_at: Option<i64>) -> i64 {
        py.detach(|| self.store.increment(key, by, expires_at))
    }

    fn set_expiry(&self, py: Python<'_>, key: &str, expires_at: i64) {
        py.detach(|| self.store.set_expiry(key, expires_at));
    }

    fn delete(&self, py: Python<'_>, key: &str) {
        py.detach(|| self.store.delete(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_kv_counts_and_expires() {
        let kv = MemoryKv::default();
        assert_eq!(kv.increment("c", 2, None), 2);
        assert_eq!(kv.increment("c", 3, None), 5);
        kv.put("gone", "x".into(), Some(now() - 1));
        assert_eq!(kv.get("gone"), None);
        kv.put("kept", "y".into(), Some(now() + 3600));
        assert_eq!(kv.get("kept").as_deref(), Some("y"));
        kv.delete("kept");
        assert_eq!(kv.get("kept"), None);
    }
}
