//! What a remediation will do: [`ApiCall`]s and the [`FieldChange`]s they should cause,
//! gathered in a [`Plan`] that the operator approves and the audit record keeps.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::target::Target;

/// One AWS API call, exactly as it will be sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiCall {
    /// The IAM action naming the call, such as `s3:PutPublicAccessBlock`.
    pub action: String,
    /// The request parameters under the API's own names.
    pub params: Value,
}

impl ApiCall {
    /// A call of `action` with `params`.
    pub fn new(action: &str, params: Value) -> Self {
        Self { action: action.to_owned(), params }
    }

    /// A request parameter, deserialized. Plans are made by this crate, so a missing or
    /// mistyped parameter is a bug, reported rather than panicking.
    pub(crate) fn get<T: DeserializeOwned>(&self, key: &str) -> Result<T, Error> {
        let value = self.params.get(key).cloned().unwrap_or(Value::Null);
        serde_json::from_value(value).map_err(|e| Error::Aws {
            operation: self.action.clone(),
            resource_id: String::new(),
            code: None,
            message: format!("malformed plan parameter {key}: {e}"),
        })
    }

    /// A string request parameter.
    pub(crate) fn str(&self, key: &str) -> Result<String, Error> {
        self.get(key)
    }
}

impl fmt::Display for ApiCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.action, self.params)
    }
}

/// The expected change of one snapshot field (a `/`-separated path, as a JSON pointer
/// without the leading slash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field, such as `PublicAccessBlockConfiguration` or `Status/IsLogging`.
    pub field: String,
    /// Its value now.
    pub before: Value,
    /// Its value once applied.
    pub after: Value,
}

/// A remediation's answer for one resource state: the calls to make, and what they change.
/// No calls means the resource already complies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Planned {
    /// The calls, in order.
    pub calls: Vec<ApiCall>,
    /// The expected field changes.
    pub changes: Vec<FieldChange>,
}

impl Planned {
    /// Nothing to do: the resource complies.
    pub(crate) fn compliant() -> Self {
        Self::default()
    }

    /// Adds a call.
    pub(crate) fn call(mut self, action: &str, params: Value) -> Self {
        self.calls.push(ApiCall::new(action, params));
        self
    }

    /// Adds the expected change of `field` in `state` (its current value is read there).
    pub(crate) fn change(mut self, state: &Value, field: &str, after: Value) -> Self {
        let before = state.pointer(&format!("/{field}")).cloned().unwrap_or(Value::Null);
        if before != after {
            self.changes.push(FieldChange { field: field.to_owned(), before, after });
        }
        self
    }
}

/// A dry run: what applying a remediation to a resource would do, and the state it was
/// planned against. Approve it and pass it to [`crate::Executor::apply`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The remediation id.
    pub remediation_id: String,
    /// The resource, resolved (account and region filled in).
    pub target: Target,
    /// The parameters, defaults filled in.
    pub parameters: Value,
    /// Fingerprint of the state read when planning; the re-check compares it.
    pub fingerprint: String,
    /// The calls, in order; empty when the resource already complies.
    pub calls: Vec<ApiCall>,
    /// The expected field changes.
    pub changes: Vec<FieldChange>,
    /// The snapshot fields the remediation read.
    pub before: Value,
    /// When the plan was made.
    pub planned_at: DateTime<Utc>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_noop(&self) -> bool {
        self.calls.is_empty()
    }

    /// The plan as stored in audit records: calls, changes and fingerprint.
    pub(crate) fn audit_json(&self, completed: Option<usize>) -> Value {
        let mut v = serde_json::json!({
            "fingerprint": self.fingerprint,
            "calls": self.calls,
            "changes": self.changes,
            "planned_at": self.planned_at,
        });
        if let Some(done) = completed {
            v["completed_calls"] = done.into();
        }
        v
    }
}

/// Fingerprint of a state: FNV-1a of its JSON text, as 16 hex digits. serde_json sorts
/// object keys, so equal content gives equal text; stable across processes and versions.
pub(crate) fn fingerprint(state: &Value) -> String {
    let text = state.to_string();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn change_reads_before_from_the_state_and_skips_no_ops() {
        let state = json!({"Status": {"IsLogging": false}, "Name": "t"});
        let p = Planned::compliant().change(&state, "Status/IsLogging", json!(true)).change(
            &state,
            "Name",
            json!("t"),
        );
        assert_eq!(
            p.changes,
            vec![FieldChange {
                field: "Status/IsLogging".into(),
                before: json!(false),
                after: json!(true)
            }]
        );
    }

    #[test]
    fn fingerprint_follows_content() {
        assert_eq!(fingerprint(&json!({"a": 1, "b": 2})), fingerprint(&json!({"b": 2, "a": 1})));
        assert_ne!(fingerprint(&json!({"a": 1})), fingerprint(&json!({"a": 2})));
    }
}
