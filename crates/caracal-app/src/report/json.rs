//! The findings as one JSON array: each verdict with its policy's title, severity,
//! remediation and framework controls.

use std::io::Write;

use serde_json::{Value, json};

use super::ReportData;

/// One finding as a JSON object.
pub fn record(data: &ReportData, finding: &caracal_core::Finding) -> Value {
    let policy = data.policy(finding);
    json!({
        "resource_id": finding.resource_id,
        "resource_type": finding.resource_type,
        "account_id": finding.account_id,
        "region": finding.region,
        "policy_id": finding.policy_id,
        "title": policy.title,
        "severity": finding.severity,
        "status": finding.status.as_str(),
        "message": finding.status.message(),
        "suppressed": finding.suppressed,
        "evaluated_at": finding.evaluated_at,
        "description": policy.description,
        "runbook": policy.runbook,
        "reference": policy.reference,
        "auto_remediation_id": policy.auto_remediation_id,
        "reports": policy.reports,
    })
}

/// Writes every finding, suppressed ones flagged, as a pretty JSON array.
pub fn write(data: &ReportData, out: &mut dyn Write) -> Result<(), serde_json::Error> {
    let records: Vec<Value> = data.findings.iter().map(|f| record(data, f)).collect();
    serde_json::to_writer_pretty(&mut *out, &records)?;
    writeln!(out).map_err(serde_json::Error::io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_finding_with_its_policy_metadata() {
        let mut out = Vec::new();
        write(&super::super::data::tests::sample(), &mut out).unwrap();
        let value: Value = serde_json::from_slice(&out).unwrap();
        let records = value.as_array().unwrap();
        assert_eq!(records.len(), 4);
        let bad = records.iter().find(|r| r["resource_id"] == "arn:aws:s3:::bad").unwrap();
        assert_eq!(bad["status"], "FAIL");
        assert_eq!(bad["auto_remediation_id"], "AWS.S3.EnableBucketVersioning");
        assert_eq!(bad["reports"]["CIS-AWS-3.0"][0], "2.1.1");
        let broken = records.iter().find(|r| r["resource_id"] == "arn:aws:s3:::broken").unwrap();
        assert_eq!(broken["message"], "KeyError: 'x'");
    }
}
