//! Posture lookups for detections: `caracal_posture.resource_lookup(id)` (the latest
//! snapshot, as a policy receives it) and `compliance_status(id, policy=None)`, answered
//! by a [`PostureLookup`] handed to [`Engine::set_posture`](crate::Engine::set_posture).
//! Packs importing the public names (`panther_oss_helpers.resource_lookup`,
//! `s3_lookup_by_name`) get the same functions, so their policies need no boto3.
//!
//! Without a lookup attached (`caracal test`), `resource_lookup` raises `BadLookup`;
//! tests mock it with `Mocks: [{objectName: resource_lookup, returnValue: ...}]`.

use std::sync::Arc;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use serde_json::Value;

/// Where posture lookups are answered from: the resource and compliance stores.
pub trait PostureLookup: Send + Sync {
    /// The latest snapshot of `resource_id` (the serialized resource envelope), or `None`
    /// when the store has no such resource.
    fn resource(&self, resource_id: &str) -> Result<Option<Value>, String>;
    /// The stored verdicts on `resource_id`: `(policy id, "PASS" | "FAIL" | "ERROR")`.
    fn compliance(&self, resource_id: &str) -> Result<Vec<(String, String)>, String>;
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

    fn compliance(&self, py: Python<'_>, resource_id: &str) -> PyResult<Vec<(String, String)>> {
        py.detach(|| self.lookup.compliance(resource_id))
            .map_err(|e| PyRuntimeError::new_err(format!("compliance store: {e}")))
    }
}
