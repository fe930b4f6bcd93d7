//! Shared SDK plumbing for the remediation modules: error mapping, "absent" answers, times.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::Error;
use crate::target::Target;
pub(crate) use caracal_core::error::chain;

/// Maps an SDK error of `operation` (an IAM action name) on `target` to [`Error::Aws`],
/// keeping the service's code (`AccessDenied`) or, without one, the transport failure.
/// A describe call that succeeded but did not return the target: the error AWS itself
/// would give (`code`) for that operation, so callers treat both alike.
pub(crate) fn not_found(operation: &str, target: &Target, code: &str, what: &str) -> Error {
    Error::Aws {
        operation: operation.to_owned(),
        resource_id: target.resource_id.clone(),
        code: Some(code.to_owned()),
        message: format!("{what} {} not found", target.name),
    }
}

pub(crate) fn aws_err<'a, E>(
    operation: &'static str,
    target: &'a Target,
) -> impl FnOnce(E) -> Error + 'a
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    move |err| {
        let code = err.code().map(str::to_owned);
        let message = match (err.code(), err.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            _ => chain(&err),
        };
        Error::Aws {
            operation: operation.to_owned(),
            resource_id: target.resource_id.clone(),
            code,
            message,
        }
    }
}

/// `Ok(None)` when the call failed with one of `codes`, AWS's way of saying "not set".
pub(crate) fn absent<T, E: ProvideErrorMetadata>(
    result: Result<T, E>,
    codes: &[&str],
) -> Result<Option<T>, E> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code().is_some_and(|c| codes.contains(&c)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An SDK time as RFC 3339 JSON, or null.
pub(crate) fn time(t: Option<&aws_smithy_types::DateTime>) -> Value {
    t.and_then(to_chrono).map(|t| Value::from(t.to_rfc3339())).unwrap_or(Value::Null)
}

fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// Reads an RFC 3339 time written by [`time`].
pub(crate) fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}
