//! [`ComplianceStore`]: the latest verdict of every policy on every resource.

use async_trait::async_trait;
use caracal_core::{Cause, ComplianceStatus, Finding, Severity, Transition};
use chrono::{DateTime, Utc};

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

/// Which transitions [`ComplianceStore::transitions`] returns; `None` fields match all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionQuery {
    /// Only this resource.
    pub resource_id: Option<String>,
    /// Only this policy.
    pub policy_id: Option<String>,
    /// Only transitions at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// At most this many, newest first.
    pub limit: usize,
}

impl TransitionQuery {
    /// The newest `limit` transitions of everything.
    pub fn recent(limit: usize) -> Self {
        Self { resource_id: None, policy_id: None, since: None, limit }
    }
}

/// Compliance state: one [`Finding`] per resource × policy, plus the history of every
/// verdict change.
///
/// Writes never move a verdict back in time: a finding evaluated before the stored one
/// (an overlapping, slower scan) is not written.
#[async_trait]
pub trait ComplianceStore: Send + Sync {
    /// Stores each finding, replacing the previous one for its resource and policy, and
    /// records a [`Transition`] for each status change (or first verdict), tagged with
    /// `cause`. Returns the transitions, in input order. Idempotent: repeating a batch
    /// records nothing new.
    async fn record(&self, findings: &[Finding], cause: &Cause) -> Result<Vec<Transition>>;

    /// [`ComplianceStore::record`] without a cause, for callers that do not need the
    /// transitions.
    async fn set_status(&self, findings: &[Finding]) -> Result<()> {
        self.record(findings, &Cause::default()).await.map(drop)
    }

    /// Transitions matching `query`, newest first.
    async fn transitions(&self, query: &TransitionQuery) -> Result<Vec<Transition>>;

    /// Forgets transitions older than `before` (the retention setting); returns how many.
    async fn prune_transitions(&self, before: DateTime<Utc>) -> Result<u64>;

    /// The finding of one policy on one resource.
    async fn get(&self, resource_id: &str, policy_id: &str) -> Result<Option<Finding>>;

    /// Every finding on a resource, sorted by policy id.
    async fn for_resource(&self, resource_id: &str) -> Result<Vec<Finding>>;

    /// Every finding on each of `resource_ids`, by resource id (resources without findings
    /// are absent). One round trip where the backend allows it (a page of the API's
    /// `?compliance=` filter); the default asks per resource.
    async fn for_resources(
        &self,
        resource_ids: &[String],
    ) -> Result<std::collections::HashMap<String, Vec<Finding>>> {
        let mut out = std::collections::HashMap::new();
        for id in resource_ids {
            let found = self.for_resource(id).await?;
            if !found.is_empty() {
                out.insert(id.clone(), found);
            }
        }
        Ok(out)
    }

    /// Every finding of a policy, sorted by resource id.
    async fn for_policy(&self, policy_id: &str) -> Result<Vec<Finding>>;

    /// Counts per policy, sorted by policy id.
    async fn overview_by_policy(&self) -> Result<Vec<OverviewRow<String>>>;

    /// Counts per resource, sorted by resource id.
    async fn overview_by_resource(&self) -> Result<Vec<OverviewRow<String>>>;

    /// Counts per severity, one row for each of [`Severity::ALL`], lowest first.
    async fn overview_by_severity(&self) -> Result<Vec<OverviewRow<Severity>>>;

    /// Forgets every finding on a resource (after it was deleted) and records a
    /// transition to "deleted" for each; returns how many.
    async fn delete_for_resource(&self, resource_id: &str) -> Result<u64>;
}

/// What to write for one incoming finding, given the stored one; shared by the backends
/// so they agree: the finding with its `first_seen` filled in and the transition, if
/// any; `None` when the stored verdict is newer (write nothing).
pub(crate) fn merge(
    previous: Option<&Finding>,
    next: &Finding,
    cause: &Cause,
) -> Option<(Finding, Option<Transition>)> {
    if previous.is_some_and(|p| p.evaluated_at > next.evaluated_at) {
        return None;
    }
    let transition = caracal_core::compliance::transition(previous, next, cause);
    let first_seen = match (&transition, previous) {
        (None, Some(p)) => p.first_seen.unwrap_or(p.evaluated_at),
        _ => next.evaluated_at,
    };
    Some((Finding { first_seen: Some(first_seen), ..next.clone() }, transition))
}

/// The batch with repeated resource × policy pairs removed, the last one kept.
pub(crate) fn latest(findings: &[Finding]) -> Vec<&Finding> {
    let mut position = std::collections::HashMap::<(&str, &str), usize>::new();
    let mut out: Vec<&Finding> = Vec::with_capacity(findings.len());
    for f in findings {
        match position.get(&(f.resource_id.as_str(), f.policy_id.as_str())) {
            Some(&i) => out[i] = f,
            None => {
                position.insert((&f.resource_id, &f.policy_id), out.len());
                out.push(f);
            }
        }
    }
    out
}

/// Whether a transition passes `query`'s resource, policy and time filters.
pub(crate) fn matches(query: &TransitionQuery, t: &Transition) -> bool {
    query.resource_id.as_ref().is_none_or(|r| *r == t.resource_id)
        && query.policy_id.as_ref().is_none_or(|p| *p == t.policy_id)
        && query.since.is_none_or(|s| t.at >= s)
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
