//! Helpers every collector shares: SDK results to [`CollectError`]s (with the "absent
//! configuration" codes that mean null), and SDK values to JSON.
//!
//! SDK output types do not implement `Serialize`; each collector maps the fields a policy
//! reads by hand with `serde_json::json!`, and uses these helpers for the recurring kinds:
//! timestamps, enums, lists and URL-encoded IAM policy documents.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::Value;

use crate::error::CollectError;

/// An SDK call's result, turned into the scanner's terms.
pub(crate) trait CallResult<T> {
    /// Names the failing operation.
    fn op(self, operation: &'static str) -> Result<T, CollectError>;
    /// Like [`CallResult::op`], but an error with one of `codes` means "not configured": `None`.
    fn absent(self, operation: &'static str, codes: &[&str]) -> Result<Option<T>, CollectError>;
}

impl<T, E, R> CallResult<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    fn op(self, operation: &'static str) -> Result<T, CollectError> {
        self.map_err(|e| CollectError::new(operation, &e))
    }

    fn absent(self, operation: &'static str, codes: &[&str]) -> Result<Option<T>, CollectError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code().is_some_and(|c| codes.contains(&c)) => Ok(None),
            Err(e) => Err(CollectError::new(operation, &e)),
        }
    }
}

/// A timestamp as RFC 3339 UTC text, or null.
pub(crate) fn ts(t: Option<&DateTime>) -> Value {
    t.and_then(|t| t.fmt(Format::DateTime).ok()).map_or(Value::Null, Value::String)
}

/// A timestamp for the envelope's `TimeCreated`.
pub(crate) fn created(t: Option<&DateTime>) -> Option<chrono::DateTime<chrono::Utc>> {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

/// An SDK enum as its wire text, or null.
pub(crate) fn e<T: AsRef<str>>(v: Option<&T>) -> Value {
    v.map_or(Value::Null, |v| Value::String(v.as_ref().to_owned()))
}

/// A list mapped item by item.
pub(crate) fn list<T>(items: &[T], f: impl Fn(&T) -> Value) -> Value {
    Value::Array(items.iter().map(f).collect())
}

/// An IAM policy document as JSON text. IAM returns documents URL-encoded (RFC 3986);
/// text that is already JSON is returned as it is.
pub(crate) fn policy_document(raw: &str) -> String {
    if raw.trim_start().starts_with('{') {
        return raw.to_owned();
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_policy_documents_are_decoded_and_json_is_kept() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(policy_document(encoded), r#"{"Version":"2012-10-17","Statement":[]}"#);
        assert_eq!(policy_document(r#"{"a":"%41"}"#), r#"{"a":"%41"}"#);
        assert_eq!(policy_document("%7"), "%7");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = DateTime::from_secs(1_700_000_000);
        assert_eq!(ts(Some(&t)), Value::String("2023-11-14T22:13:20Z".into()));
        assert_eq!(ts(None), Value::Null);
        assert_eq!(created(Some(&t)).map(|c| c.timestamp()), Some(1_700_000_000));
    }
}
