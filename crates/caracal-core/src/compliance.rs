//! What a policy says about a resource.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// How bad a failing policy or a matching rule is. Ordered from `Info` to `Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] =
        [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    /// The upper-case name (`INFO` .. `CRITICAL`), as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "INFO",
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
            Self::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` honours width and alignment, so tables can use `{:<9}`.
        f.pad(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = Error;

    /// Case-insensitive, as panther-analysis specs write `High` and rules return `HIGH`.
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Error::UnknownSeverity(s.to_owned()))
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Severity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The outcome of one policy on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", content = "message", rename_all = "UPPERCASE")]
pub enum ComplianceStatus {
    /// `policy()` returned True.
    Pass,
    /// `policy()` returned False.
    Fail,
    /// The policy raised, timed out or returned a non-bool: `ExceptionType: message`.
    Error(String),
}

impl ComplianceStatus {
    /// `PASS`, `FAIL` or `ERROR`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
            Self::Error(_) => "ERROR",
        }
    }

    /// The error message, for `Error`.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Error(m) => Some(m),
            _ => None,
        }
    }

    /// Rebuilds a status from its stored name and message.
    pub fn from_parts(status: &str, message: Option<String>) -> Option<Self> {
        match status {
            "PASS" => Some(Self::Pass),
            "FAIL" => Some(Self::Fail),
            "ERROR" => Some(Self::Error(message.unwrap_or_default())),
            _ => None,
        }
    }
}

impl fmt::Display for ComplianceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Error(m) => write!(f, "ERROR ({m})"),
            other => f.pad(other.as_str()),
        }
    }
}

/// One policy's verdict on one resource, as stored in the compliance store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The resource evaluated.
    pub resource_id: String,
    /// Its type.
    pub resource_type: String,
    /// Its account.
    pub account_id: String,
    /// Its region.
    pub region: String,
    /// The policy's `PolicyID`.
    pub policy_id: String,
    /// The policy's severity.
    pub severity: Severity,
    /// The verdict.
    pub status: ComplianceStatus,
    /// True when a `Suppressions` glob matched: stored, never reported.
    #[serde(default)]
    pub suppressed: bool,
    /// When the verdict was reached (the finding's last-seen time).
    pub evaluated_at: DateTime<Utc>,
    /// When the current status was first reached: kept while the status stays, reset by
    /// a transition. Set by the compliance store; `None` on a finding not yet stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<DateTime<Utc>>,
}

/// What caused a batch of verdicts: recorded on each transition it makes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    /// The scan whose snapshots were evaluated; `None` for an evaluation outside a scan
    /// (a re-check after a remediation, a targeted rescan, the API's "evaluate now").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_id: Option<String>,
    /// Resource id → content hash of the snapshot evaluated, for
    /// [`Transition::snapshot`].
    #[serde(default, skip_serializing_if = "std::collections::HashMap::is_empty")]
    pub snapshots: std::collections::HashMap<String, String>,
}

impl Cause {
    /// The snapshot version a finding on `resource_id` was reached on.
    pub fn snapshot(&self, resource_id: &str) -> Option<&str> {
        self.snapshots.get(resource_id).map(String::as_str)
    }
}

/// One verdict change of one policy on one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// The resource.
    pub resource_id: String,
    /// Its type.
    pub resource_type: String,
    /// Its account.
    pub account_id: String,
    /// Its region.
    pub region: String,
    /// The policy's `PolicyID`.
    pub policy_id: String,
    /// The policy's severity.
    pub severity: Severity,
    /// The verdict before; `None` for the first verdict on the resource.
    pub from: Option<ComplianceStatus>,
    /// The verdict after; `None` when the resource was deleted.
    pub to: Option<ComplianceStatus>,
    /// True when the new verdict is a suppressed FAIL.
    #[serde(default)]
    pub suppressed: bool,
    /// When it changed.
    pub at: DateTime<Utc>,
    /// The scan that caused it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_id: Option<String>,
    /// The content hash (16 hex digits) of the snapshot the new verdict was reached on;
    /// it names the snapshot version in the resource's history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

impl Transition {
    /// True when this transition starts an unsuppressed failure.
    pub fn starts_failing(&self) -> bool {
        self.to == Some(ComplianceStatus::Fail)
            && !self.suppressed
            && self.from != Some(ComplianceStatus::Fail)
    }

    /// True when a failure ends: FAIL to PASS, or the resource is gone.
    pub fn ends_failing(&self) -> bool {
        self.from == Some(ComplianceStatus::Fail)
            && matches!(self.to, None | Some(ComplianceStatus::Pass))
    }

    /// `NEW → FAIL`, `FAIL → PASS`, `PASS → DELETED`.
    pub fn describe(&self) -> String {
        let from = self.from.as_ref().map_or("NEW", ComplianceStatus::as_str);
        let to = self.to.as_ref().map_or("DELETED", ComplianceStatus::as_str);
        format!("{from} → {to}")
    }
}

/// The transition (if any) from a stored finding to a new one: the status changed, or
/// there was no stored finding. An ERROR whose message changed is not a transition.
pub fn transition(previous: Option<&Finding>, next: &Finding, cause: &Cause) -> Option<Transition> {
    let from = previous.map(|p| p.status.clone());
    if from.as_ref().is_some_and(|f| f.as_str() == next.status.as_str()) {
        return None;
    }
    Some(Transition {
        resource_id: next.resource_id.clone(),
        resource_type: next.resource_type.clone(),
        account_id: next.account_id.clone(),
        region: next.region.clone(),
        policy_id: next.policy_id.clone(),
        severity: next.severity,
        from,
        to: Some(next.status.clone()),
        suppressed: next.suppressed,
        at: next.evaluated_at,
        scan_id: cause.scan_id.clone(),
        snapshot: cause.snapshot(&next.resource_id).map(str::to_owned),
    })
}

/// The transition of a stored finding whose resource was deleted at `at`.
pub fn deletion(previous: &Finding, at: DateTime<Utc>, cause: &Cause) -> Transition {
    Transition {
        resource_id: previous.resource_id.clone(),
        resource_type: previous.resource_type.clone(),
        account_id: previous.account_id.clone(),
        region: previous.region.clone(),
        policy_id: previous.policy_id.clone(),
        severity: previous.severity,
        from: Some(previous.status.clone()),
        to: None,
        suppressed: previous.suppressed,
        at,
        scan_id: cause.scan_id.clone(),
        snapshot: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_parses_case_insensitively_and_orders() {
        assert_eq!("high".parse::<Severity>().unwrap(), Severity::High);
        assert_eq!("CRITICAL".parse::<Severity>().unwrap(), Severity::Critical);
        assert!("urgent".parse::<Severity>().is_err());
        assert!(Severity::Critical > Severity::Info);
    }

    #[test]
    fn status_round_trips_through_parts_and_json() {
        let e = ComplianceStatus::Error("KeyError: 'Grants'".into());
        assert_eq!(
            ComplianceStatus::from_parts(e.as_str(), e.message().map(str::to_owned)),
            Some(e.clone())
        );
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, r#"{"status":"ERROR","message":"KeyError: 'Grants'"}"#);
        assert_eq!(serde_json::to_string(&ComplianceStatus::Pass).unwrap(), r#"{"status":"PASS"}"#);
    }
}
