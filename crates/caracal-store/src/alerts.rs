//! [`AlertStore`]: alerts and the dedup state that groups rule matches into them.

use std::time::Duration;

use async_trait::async_trait;
use caracal_core::Alert;
use chrono::{DateTime, Utc};

use crate::error::Result;

/// A rule match to count into its dedup window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchKey<'a> {
    /// The rule's `RuleID`.
    pub rule_id: &'a str,
    /// The dedup string.
    pub dedup: &'a str,
    /// The matching event's time.
    pub event_time: DateTime<Utc>,
    /// The rule's `DedupPeriodMinutes` as a duration.
    pub window: Duration,
    /// The rule's `Threshold`: events needed in a window before it alerts (at least 1).
    pub threshold: u64,
    /// How many matches this records at once (at least 1; a batch's matches of one
    /// rule and dedup string are counted in one write).
    pub count: u64,
}

/// Where a rule match went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupOutcome {
    /// The alert this match belongs to: derived from rule id, dedup string and window
    /// start, so the same window always gets the same id.
    pub alert_id: String,
    /// When this match's window opened (the first match's event time).
    pub window_start: DateTime<Utc>,
    /// Matches counted in the window so far, this one included.
    pub event_count: u64,
    /// True when this match opened a new window.
    pub new_window: bool,
    /// True exactly once per window: on the write that brings `event_count` to (or past)
    /// the threshold. The caller creates the alert then, and updates it on later matches.
    pub threshold_reached: bool,
}

/// Alerts, and the dedup windows of rule matches.
#[async_trait]
pub trait AlertStore: Send + Sync {
    /// Inserts or replaces an alert by id.
    async fn put(&self, alert: &Alert) -> Result<()>;

    /// Writes `alert` only if the stored copy is still at revision `expected` (`None`:
    /// only if there is no stored copy; a stored alert without a revision counts as 0).
    /// The caller sets `alert.revision` to the next value. Returns false when another
    /// writer got there first: read again and retry.
    async fn put_if_revision(&self, alert: &Alert, expected: Option<u64>) -> Result<bool>;

    /// One alert.
    async fn get(&self, alert_id: &str) -> Result<Option<Alert>>;

    /// The `limit` alerts seen most recently, newest `last_seen` first.
    async fn list_recent(&self, limit: usize) -> Result<Vec<Alert>>;

    /// Counts a match into the open window of its rule and dedup string, or opens a new
    /// window when none is open at `event_time` (a window covers
    /// `[window_start, window_start + window)`; a late event counts into the open one).
    async fn record_match(&self, key: &MatchKey<'_>) -> Result<DedupOutcome>;
}

/// The alert id of a window: a stable hash of rule id, dedup string and window start.
pub fn alert_id(rule_id: &str, dedup: &str, window_start: DateTime<Utc>) -> String {
    let text = format!("{rule_id}\u{1f}{dedup}\u{1f}{}", crate::time::format(window_start));
    // FNV-1a 64, twice with different offsets for 128 bits: stable across processes.
    let mut out = String::with_capacity(32);
    for basis in [0xcbf2_9ce4_8422_2325_u64, 0x6c62_272e_07bb_0142] {
        let mut h = basis;
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

/// Whether an open window starting at `window_start` still takes a match at `event_time`.
pub(crate) fn window_open(
    window_start: DateTime<Utc>,
    window: Duration,
    event_time: DateTime<Utc>,
) -> bool {
    let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
    window_start.checked_add_signed(window).is_none_or(|end| event_time < end)
}
