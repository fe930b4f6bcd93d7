//! Sends ASFF findings to AWS Security Hub with BatchImportFindings, 100 per call (the
//! API's limit). Throttling and transient failures are retried by the SDK client (the
//! `[aws] max_attempts` retry policy of `caracal-aws`); findings Security Hub rejects
//! are counted and named, never dropped silently.

use aws_sdk_securityhub::types::AwsSecurityFinding;
use serde_json::Value;
use tracing::{info, warn};

use super::Error;

/// Security Hub accepts at most this many findings per BatchImportFindings call.
pub const BATCH_SIZE: usize = 100;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// BatchImportFindings calls made.
    pub batches: usize,
    /// Findings Security Hub accepted.
    pub imported: usize,
    /// `(finding id, error code: message)` of the findings it refused.
    pub failed: Vec<(String, String)>,
}

/// Imports `findings` (ASFF records, as [`super::asff::records`] makes them) in batches
/// of [`BATCH_SIZE`]. A call that still fails after the SDK's retries stops the import
/// with an error naming how many were imported before it.
pub async fn import(
    client: &aws_sdk_securityhub::Client,
    findings: &[Value],
) -> Result<ImportReport, Error> {
    import_in_batches(client, findings, BATCH_SIZE).await
}

/// [`import`] with at most `batch_size` findings per call (at least 1, at most
/// [`BATCH_SIZE`]).
pub async fn import_in_batches(
    client: &aws_sdk_securityhub::Client,
    findings: &[Value],
    batch_size: usize,
) -> Result<ImportReport, Error> {
    let mut report = ImportReport::default();
    for batch in findings.chunks(batch_size.clamp(1, BATCH_SIZE)) {
        let parsed: Vec<AwsSecurityFinding> = batch.iter().map(to_sdk).collect();
        let out = client.batch_import_findings().set_findings(Some(parsed)).send().await.map_err(
            |e| {
                Error::SecurityHub(format!(
                    "BatchImportFindings failed after {} imported: {}",
                    report.imported,
                    aws_sdk_securityhub::error::DisplayErrorContext(&e)
                ))
            },
        )?;
        report.batches += 1;
        report.imported += usize::try_from(out.success_count().unwrap_or(0)).unwrap_or(0);
        for failed in out.failed_findings() {
            let id = failed.id().unwrap_or_default().to_owned();
            let reason = format!(
                "{}: {}",
                failed.error_code().unwrap_or("unknown"),
                failed.error_message().unwrap_or_default()
            );
            warn!(finding = %id, %reason, "Security Hub refused a finding.");
            report.failed.push((id, reason));
        }
    }
    info!(
        batches = report.batches,
        imported = report.imported,
        failed = report.failed.len(),
        "Imported findings into Security Hub."
    );
    Ok(report)
}

/// An ASFF record as the SDK's finding type. The SDK has no serde support, so the record
/// is read field by field; every field [`super::asff::record`] writes is carried.
fn to_sdk(record: &Value) -> AwsSecurityFinding {
    use aws_sdk_securityhub::types::{
        Compliance, ComplianceStatus, Recommendation, RecordState, Remediation, Resource, Severity,
        SeverityLabel, Workflow, WorkflowStatus,
    };
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let resources = record["Resources"].as_array().map(|items| {
        items
            .iter()
            .map(|r| {
                Resource::builder()
                    .set_type(text(&r["Type"]))
                    .set_id(text(&r["Id"]))
                    .set_partition(r["Partition"].as_str().map(Into::into))
                    .set_region(text(&r["Region"]))
                    .build()
            })
            .collect::<Vec<_>>()
    });
    let mut compliance = Compliance::builder()
        .set_status(record["Compliance"]["Status"].as_str().map(ComplianceStatus::from));
    for requirement in record["Compliance"]["RelatedRequirements"].as_array().into_iter().flatten()
    {
        if let Some(r) = requirement.as_str() {
            compliance = compliance.related_requirements(r);
        }
    }
    let mut finding = AwsSecurityFinding::builder()
        .set_schema_version(text(&record["SchemaVersion"]))
        .set_id(text(&record["Id"]))
        .set_product_arn(text(&record["ProductArn"]))
        .set_product_name(text(&record["ProductName"]))
        .set_company_name(text(&record["CompanyName"]))
        .set_generator_id(text(&record["GeneratorId"]))
        .set_aws_account_id(text(&record["AwsAccountId"]))
        .set_region(text(&record["Region"]))
        .set_created_at(text(&record["CreatedAt"]))
        .set_updated_at(text(&record["UpdatedAt"]))
        .set_first_observed_at(text(&record["FirstObservedAt"]))
        .set_last_observed_at(text(&record["LastObservedAt"]))
        .severity(
            Severity::builder()
                .set_label(record["Severity"]["Label"].as_str().map(SeverityLabel::from))
                .build(),
        )
        .set_title(text(&record["Title"]))
        .set_description(text(&record["Description"]))
        .remediation(
            Remediation::builder()
                .recommendation(
                    Recommendation::builder()
                        .set_text(text(&record["Remediation"]["Recommendation"]["Text"]))
                        .set_url(text(&record["Remediation"]["Recommendation"]["Url"]))
                        .build(),
                )
                .build(),
        )
        .set_resources(resources)
        .compliance(compliance.build())
        .workflow(
            Workflow::builder()
                .set_status(record["Workflow"]["Status"].as_str().map(WorkflowStatus::from))
                .build(),
        )
        .set_record_state(record["RecordState"].as_str().map(RecordState::from));
    for t in record["Types"].as_array().into_iter().flatten() {
        if let Some(t) = t.as_str() {
            finding = finding.types(t);
        }
    }
    if let Some(fields) = record["ProductFields"].as_object() {
        for (k, v) in fields {
            if let Some(v) = v.as_str() {
                finding = finding.product_fields(k, v);
            }
        }
    }
    finding.build()
}
