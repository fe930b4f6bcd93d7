//! The stores that answer worker processes' questions: set process-wide by
//! [`Engine::set_kv_store`](crate::Engine::set_kv_store) and
//! [`Engine::set_posture`](crate::Engine::set_posture), as in-process engines share one
//! interpreter's.
//!
//! Key-value writes go through a [`Journal`] per request: the request reads its own
//! writes, and they reach the store when the request is answered. A request whose
//! worker died is evaluated again, so its writes are dropped: a rule's counter counts
//! each event once however many workers a batch costs.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use super::wire::{Answer, Question};
use crate::kv::{KvStore, MemoryKv};
use crate::posture::PostureLookup;

static KV: LazyLock<RwLock<Arc<dyn KvStore>>> =
    LazyLock::new(|| RwLock::new(Arc::new(MemoryKv::default())));
static POSTURE: RwLock<Option<Arc<dyn PostureLookup>>> = RwLock::new(None);

/// Backs workers' `panther_detection_helpers.caching` with `store`.
pub(crate) fn set_kv_store(store: Arc<dyn KvStore>) {
    *KV.write().unwrap_or_else(PoisonError::into_inner) = store;
}

/// Answers workers' posture lookups from `lookup`; `None` detaches it.
pub(crate) fn set_posture(lookup: Option<Arc<dyn PostureLookup>>) {
    *POSTURE.write().unwrap_or_else(PoisonError::into_inner) = lookup;
}

/// True when a posture lookup is attached.
pub(crate) fn posture_attached() -> bool {
    POSTURE.read().unwrap_or_else(PoisonError::into_inner).is_some()
}

fn kv() -> Arc<dyn KvStore> {
    KV.read().unwrap_or_else(PoisonError::into_inner).clone()
}

/// One request's key-value writes, kept until it is answered (see the module doc).
#[derive(Debug, Default)]
pub(crate) struct Journal {
    /// Keys written: their value now (`None`: deleted).
    written: HashMap<String, Option<String>>,
    /// The writes, in order.
    log: Vec<Question>,
}

impl Journal {
    /// The answer to a worker's question.
    pub(crate) fn answer(&mut self, question: Question) -> Answer {
        let posture = || POSTURE.read().unwrap_or_else(PoisonError::into_inner).clone();
        let detached = || "no resource store is attached to this engine".to_owned();
        match question {
            Question::Resource(id) => Answer::Resource(match posture() {
                Some(lookup) => lookup.resource(&id).map(|found| found.map(|v| v.to_string())),
                None => Err(detached()),
            }),
            Question::ResourceAt(id, when) => Answer::Resource(match posture() {
                Some(lookup) => chrono::DateTime::parse_from_rfc3339(&when)
                    .map_err(|e| format!("resource_at: unreadable time {when:?}: {e}"))
                    .and_then(|when| lookup.resource_at(&id, when.with_timezone(&chrono::Utc)))
                    .map(|found| found.map(|v| v.to_string())),
                None => Err(detached()),
            }),
            Question::Compliance(id) => Answer::Compliance(match posture() {
                Some(lookup) => lookup.compliance(&id),
                None => Err(detached()),
            }),
            Question::Get(key) => Answer::Text(self.get(&key)),
            Question::Put(key, value, expires_at) => {
                self.written.insert(key.clone(), Some(value.clone()));
                self.log.push(Question::Put(key, value, expires_at));
                Answer::Done
            }
            Question::Increment(key, by, expires_at) => {
                let total = self
                    .get(&key)
                    .and_then(|text| text.parse::<i64>().ok())
                    .unwrap_or(0)
                    .saturating_add(by);
                self.written.insert(key.clone(), Some(total.to_string()));
                self.log.push(Question::Increment(key, by, expires_at));
                Answer::Number(total)
            }
            Question::SetExpiry(key, expires_at) => {
                self.log.push(Question::SetExpiry(key, expires_at));
                Answer::Done
            }
            Question::Delete(key) => {
                self.written.insert(key.clone(), None);
                self.log.push(Question::Delete(key));
                Answer::Done
            }
        }
    }

    fn get(&self, key: &str) -> Option<String> {
        match self.written.get(key) {
            Some(value) => value.clone(),
            None => kv().get(key),
        }
    }

    /// Applies the writes to the store, in order.
    pub(crate) fn commit(self) {
        if self.log.is_empty() {
            return;
        }
        let store = kv();
        for write in self.log {
            match write {
                Question::Put(key, value, expires_at) => store.put(&key, value, expires_at),
                Question::Increment(key, by, expires_at) => {
                    store.increment(&key, by, expires_at);
                }
                Question::SetExpiry(key, expires_at) => store.set_expiry(&key, expires_at),
                Question::Delete(key) => store.delete(&key),
                Question::Resource(_)
                | Question::ResourceAt(..)
                | Question::Compliance(_)
                | Question::Get(_) => {}
            }
        }
    }
}
