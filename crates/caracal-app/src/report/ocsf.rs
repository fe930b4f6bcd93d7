//! OCSF 1.5 Compliance Findings (class 2003, category 2, with the `cloud` profile): one
//! JSON object per resource × policy, one per line.
//!
//! - `compliance`: `control` is the policy id, `standards` the policy's `Reports` keys,
//!   `requirements` their controls as `FRAMEWORK CONTROL`, `status`/`status_id`
//!   Pass (1), Fail (3) or Warning (2, the policy errored; its message in `status_details`).
//! - `status_id`: New (1) while failing or erroring, Resolved (4) once passing,
//!   Suppressed (3) when a `Suppressions` glob matched; `activity_id` Create (1) or
//!   Close (3) for a passing verdict.
//! - `finding_info.uid` is stable per resource × policy ([`finding_uid`]);
//!   `first_seen_time` is when the current verdict was first reached (when stored),
//!   `last_seen_time` the latest evaluation.
//! - `remediation`: the runbook (else the description) and the `Reference`.
//! - `unmapped.caracal`: the policy id, `AutoRemediationID`, `Reports`, suppression.
//!
//! Absent values are left out, never `null`: the schema types every attribute.

use std::io::Write;

use caracal_core::{ComplianceStatus, Finding, Severity};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::ReportData;

/// The OCSF schema version the records follow.
pub const OCSF_VERSION: &str = "1.5.0";
/// The Compliance Finding class.
pub const CLASS_UID: u64 = 2003;
/// The Findings category.
pub const CATEGORY_UID: u64 = 2;

/// A stable id for the verdicts of `policy_id` on `resource_id`, whatever the scan: the
/// same in OCSF (`finding_info.uid`) and ASFF (`Id`).
pub fn finding_uid(policy_id: &str, resource_id: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(policy_id.as_bytes());
    hash.update([0]);
    hash.update(resource_id.as_bytes());
    format!("caracal-{}", hex::encode(&hash.finalize()[..16]))
}

/// OCSF `severity_id` and its caption.
fn severity(severity: Severity) -> (u64, &'static str) {
    match severity {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`), `aws` when not an ARN.
pub(crate) fn partition(resource_id: &str) -> &str {
    let mut parts = resource_id.splitn(3, ':');
    match (parts.next(), parts.next()) {
        (Some("arn"), Some(p)) if !p.is_empty() => p,
        _ => "aws",
    }
}

/// One finding as an OCSF Compliance Finding.
pub fn record(data: &ReportData, finding: &Finding) -> Value {
    let policy = data.policy(finding);
    let (activity_id, activity_name) = match finding.status {
        ComplianceStatus::Pass => (3, "Close"),
        _ => (1, "Create"),
    };
    let (status_id, status) = match (&finding.status, finding.suppressed) {
        (_, true) => (3, "Suppressed"),
        (ComplianceStatus::Pass, false) => (4, "Resolved"),
        _ => (1, "New"),
    };
    let (compliance_status_id, compliance_status) = match finding.status {
        ComplianceStatus::Pass => (1, "Pass"),
        ComplianceStatus::Fail => (3, "Fail"),
        ComplianceStatus::Error(_) => (2, "Warning"),
    };
    let (severity_id, severity) = severity(finding.severity);
    let time = finding.evaluated_at.timestamp_millis();
    let requirements: Vec<String> = policy
        .reports
        .iter()
        .flat_map(|(framework, ids)| ids.iter().map(move |id| format!("{framework} {id}")))
        .collect();
    let standards: Vec<&String> = policy.reports.keys().collect();
    let resource = data.resource(finding);
    let regional = finding.region != caracal_core::resource::GLOBAL_REGION;
    let tags: Vec<Value> = resource
        .map(|r| r.tags.iter().map(|(k, v)| json!({"name": k, "value": v})).collect())
        .unwrap_or_default();
    let remediation = policy
        .remediation_text()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("No runbook: see policy {}.", policy.id));
    let record = json!({
        "activity_id": activity_id,
        "activity_name": activity_name,
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": CLASS_UID * 100 + activity_id,
        "type_name": format!("Compliance Finding: {activity_name}"),
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "time": time,
        "message": policy.title,
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": ["cloud"],
            "product": {
                "name": "caracal",
                "vendor_name": "caracal",
                "version": env!("CARGO_PKG_VERSION"),
            },
        },
        "cloud": {
            "provider": "AWS",
            "account": {"uid": finding.account_id, "type": "AWS Account", "type_id": 10},
            "region": regional.then_some(&finding.region),
        },
        "finding_info": {
            "uid": finding_uid(&finding.policy_id, &finding.resource_id),
            "title": policy.title,
            "desc": policy.description,
            "types": ["Software and Configuration Checks"],
            "first_seen_time": finding.first_seen.map(|t| t.timestamp_millis()),
            "last_seen_time": time,
        },
        "compliance": {
            "control": finding.policy_id,
            "standards": standards,
            "requirements": requirements,
            "status": compliance_status,
            "status_id": compliance_status_id,
            "status_details": finding.status.message().map(|m| vec![m]),
        },
        "remediation": {
            "desc": remediation,
            "references": policy.reference.as_ref().map(|r| vec![r]),
        },
        "resources": [{
            "uid": finding.resource_id,
            "type": finding.resource_type,
            "name": resource.and_then(|r| r.name.as_ref()),
            "region": regional.then_some(&finding.region),
            "cloud_partition": partition(&finding.resource_id),
            "tags": (!tags.is_empty()).then_some(tags),
        }],
        "unmapped": {
            "caracal": {
                "policy_id": finding.policy_id,
                "auto_remediation_id": policy.auto_remediation_id,
                "reports": policy.reports,
                "suppressed": finding.suppressed,
                "verdict": finding.status.as_str(),
            },
        },
    });
    without_nulls(record)
}

/// Drops `null` members and empty arrays, recursively.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
                .map(|(k, v)| (k, without_nulls(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// Writes every finding as one OCSF record per line (JSON Lines).
pub fn write(data: &ReportData, out: &mut dyn Write) -> Result<(), serde_json::Error> {
    for finding in &data.findings {
        serde_json::to_writer(&mut *out, &record(data, finding))?;
        writeln!(out).map_err(serde_json::Error::io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_ocsf_ids_and_nothing_is_null() {
        let data = super::super::data::tests::sample();
        let by = |suffix: &str| {
            let f = data.findings.iter().find(|f| f.resource_id.ends_with(suffix)).unwrap();
            record(&data, f)
        };
        let (ok, bad, broken, muted) = (by(":ok"), by(":bad"), by(":broken"), by(":muted"));
        assert_eq!(
            (ok["status_id"].as_u64(), ok["compliance"]["status_id"].as_u64()),
            (Some(4), Some(1))
        );
        assert_eq!(
            (bad["status_id"].as_u64(), bad["compliance"]["status_id"].as_u64()),
            (Some(1), Some(3))
        );
        assert_eq!(broken["compliance"]["status"], "Warning");
        assert_eq!(broken["compliance"]["status_details"][0], "KeyError: 'x'");
        assert_eq!(muted["status_id"], 3);
        assert_eq!(bad["type_uid"], 200301);
        assert_eq!(ok["type_uid"], 200303);
        assert_eq!(bad["compliance"]["requirements"][0], "CIS-AWS-3.0 2.1.1");
        assert_eq!(
            bad["unmapped"]["caracal"]["auto_remediation_id"],
            "AWS.S3.EnableBucketVersioning"
        );
        assert_eq!(bad["finding_info"]["uid"], by(":bad")["finding_info"]["uid"], "stable");
        assert_ne!(bad["finding_info"]["uid"], ok["finding_info"]["uid"]);
        assert!(!serde_json::to_string(&bad).unwrap().contains("null"));
        assert_eq!(bad["finding_info"]["first_seen_time"], 1_690_000_000_000_i64);
        assert_eq!(bad["finding_info"]["last_seen_time"], 1_700_000_000_000_i64);
    }

    #[test]
    fn partition_comes_from_the_arn() {
        assert_eq!(partition("arn:aws-us-gov:s3:::b"), "aws-us-gov");
        assert_eq!(partition("123456789012::AWS.PasswordPolicy"), "aws");
    }
}
