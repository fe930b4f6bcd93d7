//! Remediation audit records: who changed what, when, and with what result.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a remediation attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Only a plan was made; nothing was changed.
    Planned,
    /// Applied and verified fixed.
    Fixed,
    /// Applied but the re-scan still fails.
    NotFixed,
    /// Nothing to do: the resource already complied.
    AlreadyCompliant,
    /// Refused before acting (re-check found a change, circuit breaker, confirmation declined).
    Refused,
    /// An AWS call failed, and a re-read showed the change was not made.
    Failed,
    /// Intent: written right before the first call. A record with the outcome follows
    /// and names it (`intent`); an intent with no outcome means the process died while
    /// acting: the resource's state is unknown until re-checked.
    Applying,
    /// Calls were made but a response was lost and the re-read could not settle whether
    /// the change landed: re-check the resource.
    Unknown,
}

impl AuditOutcome {
    /// The snake_case name used in storage and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Fixed => "fixed",
            Self::NotFixed => "not_fixed",
            Self::AlreadyCompliant => "already_compliant",
            Self::Refused => "refused",
            Self::Failed => "failed",
            Self::Applying => "applying",
            Self::Unknown => "unknown",
        }
    }

    /// Parses [`AuditOutcome::as_str`]'s output.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Planned,
            Self::Fixed,
            Self::NotFixed,
            Self::AlreadyCompliant,
            Self::Refused,
            Self::Failed,
            Self::Applying,
            Self::Unknown,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// One remediation attempt, kept forever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Unique id of the attempt.
    pub id: String,
    /// When the attempt ended.
    pub at: DateTime<Utc>,
    /// Who asked: a user name, `api:<principal>` or `auto:<policy id>`.
    pub actor: String,
    /// The resource acted on.
    pub resource_id: String,
    /// The remediation id, such as `AWS.S3.BlockBucketPublicAccess`.
    pub remediation_id: String,
    /// The parameters used.
    pub parameters: Value,
    /// The plan: the API calls made (or that would be made).
    pub plan: Value,
    /// The result.
    pub outcome: AuditOutcome,
    /// The snapshot before acting.
    pub before: Value,
    /// The snapshot after acting (the re-scan), if any.
    pub after: Value,
    /// The error, for `Failed` and `Refused`.
    pub error: Option<String>,
    /// For an outcome written after calls were made: the id of the `Applying` intent
    /// record it closes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
}
