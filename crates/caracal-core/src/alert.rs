//! Alerts raised by detection rules.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::compliance::Severity;

/// One alert: the matches of one rule that share a dedup string within the dedup window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable id: derived from rule id, dedup string and the window's start.
    pub id: String,
    /// The rule's `RuleID`.
    pub rule_id: String,
    /// The dedup string (`dedup()`, else the title).
    pub dedup: String,
    /// The title (`title()`, else the rule id).
    pub title: String,
    /// The severity (`severity()`, else the spec's).
    pub severity: Severity,
    /// The log types of the matched events.
    pub log_types: Vec<String>,
    /// The first matching event's time.
    pub first_seen: DateTime<Utc>,
    /// The latest matching event's time.
    pub last_seen: DateTime<Utc>,
    /// How many events matched into this alert.
    pub event_count: u64,
    /// The first event's `alert_context()`, if any.
    #[serde(default)]
    pub context: serde_json::Value,
}
