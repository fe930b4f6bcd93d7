//! The normalized log event: the standard `p_` field names, the [`Event`] type every
//! parser produces ([`columns`] keeps delimited lines as text), and its [`indicators`].
//!
//! These live here, not in caracal-logs, so that crates that run rules or serve alerts
//! need no lake writer (arrow, parquet). Rules, the data lake and the API read the
//! fields by these names.

pub mod columns;
pub mod indicators;
mod normalized;

pub use normalized::{Event, Origin, RowId, RowIdBlock, RowIds, format_p_time};

/// The log type, such as `AWS.CloudTrail`.
pub const P_LOG_TYPE: &str = "p_log_type";
/// The event's own time, UTC, `YYYY-MM-DD HH:MM:SS.fffffffff`.
pub const P_EVENT_TIME: &str = "p_event_time";
/// When caracal parsed the event, UTC.
pub const P_PARSE_TIME: &str = "p_parse_time";
/// A unique, time-ordered row id.
pub const P_ROW_ID: &str = "p_row_id";
/// The id of the source the event came from.
pub const P_SOURCE_ID: &str = "p_source_id";
/// The human label of that source.
pub const P_SOURCE_LABEL: &str = "p_source_label";
/// Every IP address in the event.
pub const P_ANY_IP_ADDRESSES: &str = "p_any_ip_addresses";
/// Every domain name in the event.
pub const P_ANY_DOMAIN_NAMES: &str = "p_any_domain_names";
/// Every AWS ARN in the event.
pub const P_ANY_AWS_ARNS: &str = "p_any_aws_arns";
/// Every AWS account id in the event.
pub const P_ANY_AWS_ACCOUNT_IDS: &str = "p_any_aws_account_ids";
/// Every EC2 instance id in the event.
pub const P_ANY_AWS_INSTANCE_IDS: &str = "p_any_aws_instance_ids";
/// Every SHA-256 hash in the event.
pub const P_ANY_SHA256_HASHES: &str = "p_any_sha256_hashes";
/// Every SHA-1 hash in the event.
pub const P_ANY_SHA1_HASHES: &str = "p_any_sha1_hashes";
/// Every MD5 hash in the event.
pub const P_ANY_MD5_HASHES: &str = "p_any_md5_hashes";
/// Every email address in the event.
pub const P_ANY_EMAILS: &str = "p_any_emails";
/// Every user name in the event.
pub const P_ANY_USERNAMES: &str = "p_any_usernames";

/// The indicator fields, in the order they are written.
pub const INDICATOR_FIELDS: &[&str] = &[
    P_ANY_IP_ADDRESSES,
    P_ANY_DOMAIN_NAMES,
    P_ANY_AWS_ARNS,
    P_ANY_AWS_ACCOUNT_IDS,
    P_ANY_AWS_INSTANCE_IDS,
    P_ANY_SHA256_HASHES,
    P_ANY_SHA1_HASHES,
    P_ANY_MD5_HASHES,
    P_ANY_EMAILS,
    P_ANY_USERNAMES,
];

/// In the match tables: the rule that matched.
pub const P_RULE_ID: &str = "p_rule_id";
/// In the match tables: the alert the match counted toward (the id of its rule, dedup
/// string and window, also for matches still under the rule's threshold).
pub const P_ALERT_ID: &str = "p_alert_id";
/// In the match tables: when that alert was created; null while under the threshold.
pub const P_ALERT_CREATION_TIME: &str = "p_alert_creation_time";
/// In the match tables: the severity of the match.
pub const P_RULE_SEVERITY: &str = "p_rule_severity";
/// In the `rule_errors` table: what the rule raised.
pub const P_RULE_ERROR: &str = "p_rule_error";

/// Log type names caracal used before it took Panther's: (old, current).
pub const RENAMED_LOG_TYPES: &[(&str, &str)] =
    &[("Azure.SignIn", "Azure.Audit"), ("Zeek.SSL", "Zeek.Ssl")];

/// The current name of `log_type`: the name a renamed type has now, or itself.
pub fn current_log_type(log_type: &str) -> &str {
    RENAMED_LOG_TYPES.iter().find(|(old, _)| *old == log_type).map_or(log_type, |(_, new)| new)
}

/// Where the events behind alerts are kept in the lake: one table per kind of alert.
pub fn match_table(kind: crate::AlertKind) -> &'static str {
    match kind {
        crate::AlertKind::Rule => "rule_matches",
        crate::AlertKind::RuleError => "rule_errors",
        crate::AlertKind::Signal => "signals",
        // Policy alerts come from scans, not events: no lake rows are written for them.
        crate::AlertKind::Policy => "policy_failures",
    }
}

/// One event a rule matched (or raised on), as the detector decided it: the row it adds
/// to the lake's match tables beside the event's own columns.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RuleMatch {
    /// The event's index in the batch the detector ran on.
    pub event: usize,
    /// The rule.
    pub rule_id: String,
    /// Match, rule error or signal.
    pub kind: crate::AlertKind,
    /// The alert (or signal) id of the match's rule, dedup string and window.
    pub alert_id: String,
    /// When that alert was created; `None` while the window is under the threshold.
    pub alert_created_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The match's severity.
    pub severity: crate::Severity,
    /// What the rule raised, for rule errors.
    pub error: Option<String>,
}
