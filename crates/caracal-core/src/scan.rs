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
    /// AWS requests sent to list and describe this type (retries included).
    #[serde(default)]
    pub requests: u64,
    /// Answers to those requests that were throttling errors (retried, or the call failed).
    #[serde(default)]
    pub throttled: u64,
    /// Those requests per operation, keyed `service:Operation` (`s3:GetBucketAcl`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub operations: BTreeMap<String, u64>,
}

impl TypeSummary {
    /// Requests per resource seen; `None` when nothing was seen.
    pub fn requests_per_resource(&self) -> Option<f64> {
        (self.seen > 0).then(|| self.requests as f64 / self.seen as f64)
    }
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
    /// AWS requests sent (including retries): every type's, plus the session's own
    /// (identity, assumed roles).
    pub requests: u64,
    /// Answers among those requests that were throttling errors.
    #[serde(default)]
    pub throttled: u64,
    /// Per resource type.
    pub types: BTreeMap<String, TypeSummary>,
    /// Every failed call.
    pub errors: Vec<ScanError>,
    /// Regions left out of this scan because the account may not call AWS there (a
    /// service control policy denying the region): reported, not errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_regions: Vec<BlockedRegion>,
    /// Requests spent deciding where to scan (DescribeRegions, one region check per
    /// account and region), included in `requests` but in no type's count.
    #[serde(default)]
    pub scope_requests: u64,
}

/// A region the scan skipped in one account because AWS denied the region check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedRegion {
    /// The account.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// What AWS said to the region check.
    pub reason: String,
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
            t.requests += s.requests;
            t.throttled += s.throttled;
            for (op, n) in &s.operations {
                *t.operations.entry(op.clone()).or_default() += n;
            }
            t
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_requests_and_operations() {
        let s3 = TypeSummary {
            seen: 4,
            requests: 10,
            operations: [("s3:ListBuckets".to_owned(), 2), ("s3:GetBucketAcl".to_owned(), 8)]
                .into(),
            ..TypeSummary::default()
        };
        let iam = TypeSummary {
            seen: 0,
            requests: 2,
            operations: [("s3:ListBuckets".to_owned(), 2)].into(),
            ..TypeSummary::default()
        };
        let report = ScanReport {
            types: [("AWS.S3.Bucket".to_owned(), s3.clone()), ("AWS.IAM.User".to_owned(), iam)]
                .into(),
            ..ScanReport::default()
        };
        let t = report.totals();
        assert_eq!((t.seen, t.requests), (4, 12));
        assert_eq!(t.operations.get("s3:ListBuckets"), Some(&4));
        assert_eq!(s3.requests_per_resource(), Some(2.5));
        assert_eq!(TypeSummary::default().requests_per_resource(), None);
        // Reports stored before the request columns existed still read.
        let old: TypeSummary = serde_json::from_str(
            r#"{"seen":1,"new":1,"changed":0,"unchanged":0,"deleted":0,"errors":0}"#,
        )
        .unwrap();
        assert_eq!(old.requests, 0);
    }
}
