//! AWS Security Finding Format (ASFF 2018-10-08): one finding per resource × policy,
//! ready for Security Hub's BatchImportFindings.
//!
//! The verdict decides the finding's state, so a resource that was fixed re-imports as
//! archived and resolved:
//!
//! | verdict | `Compliance.Status` | `RecordState` | `Workflow.Status` |
//! | --- | --- | --- | --- |
//! | PASS | `PASSED` | `ARCHIVED` | `RESOLVED` |
//! | FAIL | `FAILED` | `ACTIVE` | `NEW` (`SUPPRESSED` when suppressed) |
//! | ERROR | `NOT_AVAILABLE` (the check could not run) | `ACTIVE` | `NEW` |
//!
//! `Id` is stable per resource × policy (the OCSF `finding_info.uid`), `GeneratorId` the
//! policy id, and the product the importing account's default product. `CreatedAt` and
//! `FirstObservedAt` are when the current verdict was first reached (the evaluation time
//! for a finding not yet stored); `UpdatedAt` and `LastObservedAt` the latest evaluation.

use std::io::Write;

use caracal_core::{ComplianceStatus, Finding, Severity};
use serde_json::{Value, json};

use super::ocsf::{finding_uid, partition};
use super::{Destination, ReportData};

/// The ASFF version the findings follow.
pub const SCHEMA_VERSION: &str = "2018-10-08";

/// Security Hub's resource type for a caracal resource type, `Other` when it has none.
pub fn resource_type(caracal_type: &str) -> &'static str {
    match caracal_type {
        "AWS.CloudTrail" => "AwsCloudTrailTrail",
        "AWS.DynamoDB.Table" => "AwsDynamoDbTable",
        "AWS.EC2.Instance" => "AwsEc2Instance",
        "AWS.EC2.NetworkACL" => "AwsEc2NetworkAcl",
        "AWS.EC2.SecurityGroup" => "AwsEc2SecurityGroup",
        "AWS.EC2.Snapshot" => "AwsEc2Snapshot",
        "AWS.EC2.VPC" => "AwsEc2Vpc",
        "AWS.EC2.Volume" => "AwsEc2Volume",
        "AWS.ECS.Cluster" => "AwsEcsCluster",
        "AWS.EKS.Cluster" => "AwsEksCluster",
        "AWS.IAM.Group" => "AwsIamGroup",
        "AWS.IAM.Policy" => "AwsIamPolicy",
        "AWS.IAM.Role" => "AwsIamRole",
        "AWS.IAM.User" => "AwsIamUser",
        "AWS.KMS.Key" => "AwsKmsKey",
        "AWS.Lambda.Function" => "AwsLambdaFunction",
        "AWS.RDS.Instance" => "AwsRdsDbInstance",
        "AWS.S3.Bucket" => "AwsS3Bucket",
        "AWS.SecretsManager.Secret" => "AwsSecretsManagerSecret",
        "AWS.SNS.Topic" => "AwsSnsTopic",
        "AWS.SQS.Queue" => "AwsSqsQueue",
        _ => "Other",
    }
}

fn label(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "INFORMATIONAL",
        Severity::Low => "LOW",
        Severity::Medium => "MEDIUM",
        Severity::High => "HIGH",
        Severity::Critical => "CRITICAL",
    }
}

/// At most `max` characters of `text` (ASFF limits several strings).
fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The `(Compliance.Status, RecordState, Workflow.Status)` of a verdict.
pub fn states(finding: &Finding) -> (&'static str, &'static str, &'static str) {
    match (&finding.status, finding.suppressed) {
        (ComplianceStatus::Pass, _) => ("PASSED", "ARCHIVED", "RESOLVED"),
        (ComplianceStatus::Fail, true) => ("FAILED", "ACTIVE", "SUPPRESSED"),
        (ComplianceStatus::Fail, false) => ("FAILED", "ACTIVE", "NEW"),
        (ComplianceStatus::Error(_), _) => ("NOT_AVAILABLE", "ACTIVE", "NEW"),
    }
}

/// One finding in ASFF.
pub fn record(data: &ReportData, finding: &Finding, destination: &Destination) -> Value {
    let policy = data.policy(finding);
    let partition = partition(&finding.resource_id);
    let importer = destination.account_id.as_deref().unwrap_or(&finding.account_id);
    let product_arn = format!(
        "arn:{partition}:securityhub:{}:{importer}:product/{importer}/default",
        destination.region
    );
    let (compliance, record_state, workflow) = states(finding);
    let stamp =
        |t: &chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let at = stamp(&finding.evaluated_at);
    let first = finding.first_seen.as_ref().map(stamp).unwrap_or_else(|| at.clone());
    let region = if finding.region == caracal_core::resource::GLOBAL_REGION {
        destination.region.as_str()
    } else {
        finding.region.as_str()
    };
    let mut types: Vec<String> = policy
        .reports
        .keys()
        .map(|f| format!("Software and Configuration Checks/Industry and Regulatory Standards/{f}"))
        .collect();
    if types.is_empty() {
        types.push("Software and Configuration Checks/AWS Security Best Practices".into());
    }
    types.truncate(50);
    let requirements: Vec<String> = policy
        .reports
        .iter()
        .flat_map(|(framework, ids)| ids.iter().map(move |id| format!("{framework} {id}")))
        .take(32)
        .collect();
    let mut product_fields = serde_json::Map::new();
    product_fields.insert("caracal/PolicyId".into(), json!(finding.policy_id));
    product_fields.insert("caracal/Verdict".into(), json!(finding.status.as_str()));
    if let Some(id) = &policy.auto_remediation_id {
        product_fields.insert("caracal/AutoRemediationID".into(), json!(id));
    }
    if let Some(message) = finding.status.message() {
        product_fields.insert("caracal/ErrorMessage".into(), json!(clip(message, 1024)));
    }
    let mut recommendation = serde_json::Map::new();
    let text = policy
        .remediation_text()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("No runbook: see policy {}.", policy.id));
    recommendation.insert("Text".into(), json!(clip(&text, 512)));
    if let Some(url) = &policy.reference {
        recommendation.insert("Url".into(), json!(url));
    }
    let mut compliance_obj = serde_json::Map::new();
    compliance_obj.insert("Status".into(), json!(compliance));
    if !requirements.is_empty() {
        compliance_obj.insert("RelatedRequirements".into(), json!(requirements));
    }
    json!({
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_uid(&finding.policy_id, &finding.resource_id),
        "ProductArn": product_arn,
        "ProductName": "caracal",
        "CompanyName": "caracal",
        "GeneratorId": finding.policy_id,
        "AwsAccountId": finding.account_id,
        "Region": region,
        "Types": types,
        "CreatedAt": first,
        "UpdatedAt": at,
        "FirstObservedAt": first,
        "LastObservedAt": at,
        "Severity": {"Label": label(finding.severity)},
        "Title": clip(&policy.title, 256),
        "Description": clip(policy.description.as_deref().unwrap_or(&policy.title), 1024),
        "Remediation": {"Recommendation": recommendation},
        "ProductFields": product_fields,
        "Resources": [{
            "Type": resource_type(&finding.resource_type),
            "Id": finding.resource_id,
            "Partition": partition,
            "Region": region,
        }],
        "Compliance": compliance_obj,
        "Workflow": {"Status": workflow},
        "RecordState": record_state,
    })
}

/// Every finding in ASFF, in `data`'s order.
pub fn records(data: &ReportData, destination: &Destination) -> Vec<Value> {
    data.findings.iter().map(|f| record(data, f, destination)).collect()
}

/// Writes `{"Findings": [...]}`, the body of one BatchImportFindings call (Security Hub
/// takes at most 100 per call: `caracal report --send-to securityhub` batches them).
pub fn write(
    data: &ReportData,
    destination: &Destination,
    out: &mut dyn Write,
) -> Result<(), serde_json::Error> {
    serde_json::to_writer_pretty(&mut *out, &json!({ "Findings": records(data, destination) }))?;
    writeln!(out).map_err(serde_json::Error::io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_sets_compliance_record_state_and_workflow() {
        let data = super::super::data::tests::sample();
        let dest = Destination { region: "eu-west-1".into(), account_id: None };
        let by = |suffix: &str| {
            let f = data.findings.iter().find(|f| f.resource_id.ends_with(suffix)).unwrap();
            record(&data, f, &dest)
        };
        let ok = by(":ok");
        assert_eq!(ok["Compliance"]["Status"], "PASSED");
        assert_eq!(ok["RecordState"], "ARCHIVED");
        assert_eq!(ok["Workflow"]["Status"], "RESOLVED");
        let bad = by(":bad");
        assert_eq!(
            (&bad["Compliance"]["Status"], &bad["RecordState"], &bad["Workflow"]["Status"]),
            (&json!("FAILED"), &json!("ACTIVE"), &json!("NEW"))
        );
        assert_eq!(by(":broken")["Compliance"]["Status"], "NOT_AVAILABLE");
        assert_eq!(by(":muted")["Workflow"]["Status"], "SUPPRESSED");
        assert_eq!(
            bad["ProductArn"],
            "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"
        );
        assert_eq!(bad["GeneratorId"], "AWS.S3.Bucket.Versioning");
        assert_eq!(bad["Resources"][0]["Type"], "AwsS3Bucket");
        assert_eq!(bad["Severity"]["Label"], "MEDIUM");
        assert_eq!(bad["FirstObservedAt"], "2023-07-22T04:26:40.000Z");
        assert_eq!(bad["UpdatedAt"], "2023-11-14T22:13:20.000Z");
        assert_eq!(bad["Compliance"]["RelatedRequirements"][0], "CIS-AWS-3.0 2.1.1");
        assert_eq!(
            bad["Types"][0],
            "Software and Configuration Checks/Industry and Regulatory Standards/CIS-AWS-3.0"
        );
        assert_eq!(bad["Remediation"]["Recommendation"]["Text"], "Enable versioning.");
        assert_eq!(
            bad["ProductFields"]["caracal/AutoRemediationID"],
            "AWS.S3.EnableBucketVersioning"
        );
        assert_eq!(bad["Id"], by(":bad")["Id"], "stable across runs");
        assert_ne!(bad["Id"], ok["Id"]);
    }
}
