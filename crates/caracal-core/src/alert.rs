//! Alerts raised by detection rules, their lifecycle and their deliveries.

use std::fmt;
use std::str::FromStr;

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
    /// A rule match, a rule error, or a signal (`CreateAlert: false`: stored, never
    /// delivered).
    #[serde(default)]
    pub kind: AlertKind,
    /// Where the alert is in its lifecycle.
    #[serde(default)]
    pub status: AlertStatus,
    /// Who is working on it.
    #[serde(default)]
    pub assignee: Option<String>,
    /// When caracal created the alert (the threshold was reached).
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// `description()`, else the spec's `Description`.
    #[serde(default)]
    pub description: Option<String>,
    /// `reference()`, else the spec's `Reference`.
    #[serde(default)]
    pub reference: Option<String>,
    /// `runbook()`, else the spec's `Runbook`.
    #[serde(default)]
    pub runbook: Option<String>,
    /// The destination ids it goes to, decided when it was created.
    #[serde(default)]
    pub destinations: Vec<String>,
    /// One entry per destination: attempts, outcome, last error.
    #[serde(default)]
    pub deliveries: Vec<Delivery>,
    /// Lifecycle changes, oldest first.
    #[serde(default)]
    pub history: Vec<AlertChange>,
    /// Bumped by every write, so concurrent writers (two pollers, a poller and a person
    /// triaging) never overwrite each other's change (`AlertStore::put_if_revision`).
    #[serde(default)]
    pub revision: u64,
}

impl Default for Alert {
    fn default() -> Self {
        Alert {
            id: String::new(),
            rule_id: String::new(),
            dedup: String::new(),
            title: String::new(),
            severity: Severity::Info,
            log_types: Vec::new(),
            first_seen: DateTime::<Utc>::UNIX_EPOCH,
            last_seen: DateTime::<Utc>::UNIX_EPOCH,
            event_count: 0,
            context: serde_json::Value::Null,
            kind: AlertKind::Rule,
            status: AlertStatus::Open,
            assignee: None,
            created_at: None,
            description: None,
            reference: None,
            runbook: None,
            destinations: Vec::new(),
            deliveries: Vec::new(),
            history: Vec::new(),
            revision: 0,
        }
    }
}

impl Alert {
    /// True while some destination has not taken the alert yet.
    pub fn delivery_pending(&self) -> bool {
        self.deliveries.iter().any(|d| d.status == DeliveryStatus::Pending)
    }
}

/// What raised an alert.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// `rule()` returned true.
    #[default]
    Rule,
    /// `rule()` raised: grouped per rule and exception type in the dedup window.
    RuleError,
    /// A match of a rule with `CreateAlert: false`: kept for investigation, not delivered.
    Signal,
    /// A resource started failing a policy (one alert per resource and policy; resolved
    /// when it passes again or is deleted). `rule_id` holds the policy id.
    Policy,
}

impl AlertKind {
    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rule => "rule",
            Self::RuleError => "rule_error",
            Self::Signal => "signal",
            Self::Policy => "policy",
        }
    }
}

/// An alert's lifecycle state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// New, nobody has looked.
    #[default]
    Open,
    /// Someone is looking.
    Triaged,
    /// Closed without action (benign, false positive).
    Closed,
    /// The cause was dealt with.
    Resolved,
}

impl AlertStatus {
    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Triaged => "triaged",
            Self::Closed => "closed",
            Self::Resolved => "resolved",
        }
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "open" => Ok(Self::Open),
            "triaged" => Ok(Self::Triaged),
            "closed" => Ok(Self::Closed),
            "resolved" => Ok(Self::Resolved),
            _ => Err(format!("unknown alert status {s:?} (open, triaged, closed, resolved)")),
        }
    }
}

/// One destination's delivery of an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The destination id.
    pub destination: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: u32,
    /// The last attempt's time.
    pub last_attempt: Option<DateTime<Utc>>,
    /// The last failure, with no secret in it.
    pub last_error: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not delivered yet: retried later, never dropped.
    Pending,
    /// The destination took it.
    Delivered,
}

/// One change of an alert's status or assignee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertChange {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (a user, a token name, `caracal` for automatic changes).
    pub actor: String,
    /// `status` or `assignee`.
    pub field: String,
    /// The value before.
    pub from: Option<String>,
    /// The value after.
    pub to: Option<String>,
}
