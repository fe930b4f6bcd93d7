//! The findings as a terminal table: a summary line, then failing and erroring
//! unsuppressed findings, worst first (as `caracal scan` prints them).

use std::io::Write;

use caracal_core::{ComplianceStatus, Finding};

use super::ReportData;

/// The table's header line.
pub fn write_header(out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{:<9} {:<6} {:<42} RESOURCE", "SEVERITY", "STATUS", "POLICY")
}

/// One finding's row, then its policy's title (and the error, for ERROR).
pub fn write_row(out: &mut dyn Write, f: &Finding, title: &str) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<9} {:<6} {:<42} {}",
        f.severity,
        f.status.as_str(),
        f.policy_id,
        f.resource_id
    )?;
    match &f.status {
        ComplianceStatus::Error(message) => writeln!(out, "{:17}{title}: {message}", ""),
        _ => writeln!(out, "{:17}{title}", ""),
    }
}

/// Writes the summary and the reportable findings.
pub fn write(data: &ReportData, out: &mut dyn Write) -> std::io::Result<()> {
    let mut reportable: Vec<&Finding> =
        data.unsuppressed().filter(|f| f.status != ComplianceStatus::Pass).collect();
    reportable.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.policy_id.cmp(&b.policy_id))
            .then_with(|| a.resource_id.cmp(&b.resource_id))
    });
    let passed = data.findings.iter().filter(|f| f.status == ComplianceStatus::Pass).count();
    let suppressed = data.findings.iter().filter(|f| f.suppressed).count();
    writeln!(
        out,
        "{} policies, {} checks: {passed} passed, {} failing or erroring, {suppressed} suppressed",
        data.policies.len(),
        data.findings.len(),
        reportable.len(),
    )?;
    if reportable.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    write_header(out)?;
    for f in reportable {
        let policy = data.policy(f);
        write_row(out, f, &policy.title)?;
        if let Some(id) = &policy.auto_remediation_id {
            writeln!(out, "{:17}remediation: {id}", "")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_fail_and_error_but_not_pass_or_suppressed() {
        let mut out = Vec::new();
        write(&super::super::data::tests::sample(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("1 policies, 4 checks: 1 passed, 2 failing or erroring, 1 suppressed")
        );
        assert!(text.contains("arn:aws:s3:::bad") && text.contains("arn:aws:s3:::broken"));
        assert!(!text.contains(":::ok") && !text.contains(":::muted"), "{text}");
        assert!(text.contains("KeyError: 'x'") && text.contains("AWS.S3.EnableBucketVersioning"));
    }
}
