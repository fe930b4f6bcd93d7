//! Posture lookups for detections: `caracal_posture.resource_lookup(id)` (the latest
//! snapshot, as a policy receives it), `resource_at(id, when)` (the snapshot in force at
//! a time, from the history) and `compliance_status(id, policy=None)`, answered
//! by a [`PostureLookup`] handed to [`Engine::set_posture`](crate::Engine::set_posture).
//! Packs importing the public names (`panther_oss_helpers.resource_lookup`,
//! `s3_lookup_by_name`) get the same functions, so their policies need no boto3.
//!
//! Without a lookup attached (`caracal test`), `resource_lookup` raises `BadLookup`;
//! tests mock it with `Mocks: [{objectName: resource_lookup, returnValue: ...}]`.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use serde_json::Value;

/// Where posture lookups are answered from: the resource and compliance stores.
pub trait PostureLookup: Send + Sync {
    /// The latest snapshot of `resource_id` (the serialized resource envelope), or `None`
    /// when the store has no such resource.
    fn resource(&self, resource_id: &str) -> Result<Option<Value>, String>;
    /// The stored verdicts on `resource_id`: `(policy id, "PASS" | "FAIL" | "ERROR")`.
    fn compliance(&self, resource_id: &str) -> Result<Vec<(String, String)>, String>;
    /// The snapshot of `resource_id` in force at `when`: the latest change observed at
    /// or before it, `None` when the resource was unknown or deleted then.
    fn resource_at(&self, resource_id: &str, when: DateTime<Utc>) -> Result<Option<Value>, String> {
        let _ = (resource_id, when);
        Err("this posture lookup keeps no history".into())
    }
}

/// `when` as `resource_at` takes it: RFC 3339, `p_event_time` (`YYYY-MM-DD HH:MM:SS.f`,
/// UTC) or an ISO 8601 time without offset (UTC).
fn parse_when(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc())
}

/// The Python face of a [`PostureLookup`]: what `caracal_posture` calls.
#[pyclass(name = "PostureLookup", module = "_caracal_runtime", frozen)]
pub(crate) struct PyPosture {
    pub(crate) lookup: Arc<dyn PostureLookup>,
}

#[pymethods]
impl PyPosture {
    /// The snapshot as JSON text, or None.
    fn resource(&self, py: Python<'_>, resource_id: &str) -> PyResult<Option<String>> {
        let found = py.detach(|| self.lookup.resource(resource_id));
        let found = found.map_err(|e| PyRuntimeError::new_err(format!("resource store: {e}")))?;
        Ok(found.map(|v| v.to_string()))
    }

    /// The snapshot in force at `when` as JSON text, or None.
    fn resource_at(
        &self,
        py: Python<'_>,
        resource_id: &str,
        when: &str,
    ) -> PyResult<Option<String>> {
        let when = parse_when(when).ok_or_else(|| {
            PyValueError::new_err(format!("resource_at: unreadable time {when:?}"))
        })?;
        let found = py.detach(|| self.lookup.resource_at(resource_id, when));
        let found = found.map_err(|e| PyRuntimeError::new_err(format!("resource store: {e}")))?;
        Ok(found.map(|v| v.to_string()))
    }

    fn compliance(&self, py: Python<'_>, resource_id: &str) -> PyResult<Vec<(String, String)>> {
        py.detach(|| self.lookup.compliance(resource_id))
            .map_err(|e| PyRuntimeError::new_err(format!("compliance store: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_when;

    #[test]
    fn times_are_read_in_the_forms_events_carry() {
        let t = parse_when("2024-07-31T12:00:05Z").unwrap();
        assert_eq!(parse_when("2024-07-31 12:00:05.000000000"), Some(t));
        assert_eq!(parse_when("2024-07-31T14:00:05+02:00"), Some(t));
        assert_eq!(parse_when("2024-07-31T12:00:05"), Some(t));
        assert_eq!(parse_when("yesterday"), None);
    }
}
