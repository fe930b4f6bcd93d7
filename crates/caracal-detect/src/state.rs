//! Optimistic alert writes: read, change, write at the next revision, and start again
//! from a fresh read when another writer (a second poller, a person triaging) got there
//! first. No writer ever overwrites another's change.

use caracal_core::Alert;
use caracal_store::Store;

use crate::error::{Error, Result};

/// Attempts before giving up on an alert that keeps changing.
const ATTEMPTS: usize = 20;

/// Creates `alert` at revision 1; false when it exists already.
pub(crate) async fn create(store: &dyn Store, alert: &mut Alert) -> Result<bool> {
    alert.revision = 1;
    store
        .alerts()
        .put_if_revision(alert, None)
        .await
        .map_err(Error::store(format!("storing alert {}", alert.id)))
}

/// Applies `change` to the stored alert `id` and writes it back; `None` when there is no
/// such alert.
pub(crate) async fn modify(
    store: &dyn Store,
    id: &str,
    mut change: impl FnMut(&mut Alert),
) -> Result<Option<Alert>> {
    for _ in 0..ATTEMPTS {
        let Some(mut alert) =
            store.alerts().get(id).await.map_err(Error::store(format!("reading alert {id}")))?
        else {
            return Ok(None);
        };
        let expected = alert.revision;
        change(&mut alert);
        alert.revision = expected + 1;
        let written = store
            .alerts()
            .put_if_revision(&alert, Some(expected))
            .await
            .map_err(Error::store(format!("storing alert {id}")))?;
        if written {
            return Ok(Some(alert));
        }
    }
    Err(Error::Invalid(format!("alert {id} kept changing under concurrent writers")))
}
