//! [`ComplianceStore`]: the latest verdict of every policy on every resource.

use async_trait::async_trait;
use caracal_core::{ComplianceStatus, Finding, Severity};

use crate::error::Result;

/// Verdict counts of one group (a policy, a resource or a severity).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// Findings that pass.
    pub pass: u64,
    /// Unsuppressed findings that fail.
    pub fail: u64,
    /// Findings whose policy errored.
    pub error: u64,
    /// Suppressed findings that fail: stored, counted here, never in `fail`.
    pub suppressed_fail: u64,
}

impl StatusCounts {
    /// Counts one finding.
    pub fn add(&mut self, status: &ComplianceStatus, suppressed: bool) {
        match status {
            ComplianceStatus::Pass => self.pass += 1,
            ComplianceStatus::Fail if suppressed => self.suppressed_fail += 1,
            ComplianceStatus::Fail => self.fail += 1,
            ComplianceStatus::Error(_) => self.error += 1,
        }
    }
}

/// One row of an overview: a group's key and its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverviewRow<K> {
    /// The policy id, resource id or severity.
    pub key: K,
    /// Its counts.
    pub counts: StatusCounts,
}

/// Compliance state: one [`Finding`] per resource × policy, last write wins.
#[async_trait]
pub trait ComplianceStore: Send + Sync {
    /// Stores each finding, replacing the previous one for its resource and policy.
    async fn set_status(&self, findings: &[Finding]) -> Result<()>;

    /// The finding of one policy on one resource.
    async fn get(&self, resource_id: &str, policy_id: &str) -> Result<Option<Finding>>;

    /// Every finding on a resource, sorted by policy id.
    async fn for_resource(&self, resource_id: &str) -> Result<Vec<Finding>>;

    /// Every finding of a policy, sorted by resource id.
    async fn for_policy(&self, policy_id: &str) -> Result<Vec<Finding>>;

    /// Counts per policy, sorted by policy id.
    async fn overview_by_policy(&self) -> Result<Vec<OverviewRow<String>>>;

    /// Counts per resource, sorted by resource id.
    async fn overview_by_resource(&self) -> Result<Vec<OverviewRow<String>>>;

    /// Counts per severity, one row for each of [`Severity::ALL`], lowest first.
    async fn overview_by_severity(&self) -> Result<Vec<OverviewRow<Severity>>>;

    /// Forgets every finding on a resource (after it was deleted); returns how many.
    async fn delete_for_resource(&self, resource_id: &str) -> Result<u64>;
}

/// Groups findings into overview rows sorted by key; shared by the backends that count
/// in memory.
pub(crate) fn overview<'a, K: Ord + Clone + 'a>(
    findings: impl IntoIterator<Item = (K, &'a ComplianceStatus, bool)>,
) -> Vec<OverviewRow<K>> {
    let mut groups = std::collections::BTreeMap::<K, StatusCounts>::new();
    for (key, status, suppressed) in findings {
        groups.entry(key).or_default().add(status, suppressed);
    }
    groups.into_iter().map(|(key, counts)| OverviewRow { key, counts }).collect()
}

/// Completes a severity overview with zero rows, lowest severity first.
pub(crate) fn all_severities(rows: Vec<OverviewRow<Severity>>) -> Vec<OverviewRow<Severity>> {
    Severity::ALL
        .into_iter()
        .map(|key| {
            let counts = rows.iter().find(|r| r.key == key).map(|r| r.counts).unwrap_or_default();
            OverviewRow { key, counts }
        })
        .collect()
}
