//! What one scan saw, changed and failed to see.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Counts for one resource type in one scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeSummary {
    /// Resources listed.
    pub seen: u64,
    /// First seen in this scan.
    pub new: u64,
    /// Content differs from the stored snapshot.
    pub changed: u64,
    /// Same as the stored snapshot.
    pub unchanged: u64,
    /// Missing from a complete listing: marked deleted.
    pub deleted: u64,
    /// Calls that failed for this type.
    pub errors: u64,
}

/// A call that failed during a scan. The resources it would have listed are left as they were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanError {
    /// The account scanned.
    pub account_id: String,
    /// The region scanned (`global` for global types).
    pub region: String,
    /// The resource type.
    pub resource_type: String,
    /// The failing operation, such as `s3:GetBucketAcl`.
    pub operation: String,
    /// What AWS said.
    pub message: String,
}

/// The outcome of one scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    /// When the scan started.
    pub started_at: Option<DateTime<Utc>>,
    /// Wall time, in milliseconds.
    pub duration_ms: u64,
    /// AWS requests sent (including retries).
    pub requests: u64,
    /// Per resource type.
    pub types: BTreeMap<String, TypeSummary>,
    /// Every failed call.
    pub errors: Vec<ScanError>,
}

impl ScanReport {
    /// Totals over every type.
    pub fn totals(&self) -> TypeSummary {
        self.types.values().fold(TypeSummary::default(), |mut t, s| {
            t.seen += s.seen;
            t.new += s.new;
            t.changed += s.changed;
            t.unchanged += s.unchanged;
            t.deleted += s.deleted;
            t.errors += s.errors;
            t
        })
    }
}
