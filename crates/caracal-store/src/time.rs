//! Timestamps as stored: RFC 3339 UTC with nine fraction digits, so text order is time order.

use chrono::{DateTime, SecondsFormat, Utc};

/// Formats a time for storage.
pub(crate) fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Parses a stored time.
pub(crate) fn parse(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("bad timestamp {text:?}: {e}"))
}
