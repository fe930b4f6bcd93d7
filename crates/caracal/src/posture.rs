//! Printing posture results: the failing and erroring findings of an evaluation.

use std::io::Write;

use caracal_app::Evaluation;
use caracal_core::ComplianceStatus;

/// Prints the specs that did not load (their resources got ERROR verdicts) on stderr.
pub fn print_invalid(evaluation: &Evaluation) {
    for invalid in &evaluation.invalid {
        eprintln!("caracal: invalid spec {}: {}", invalid.path.display(), invalid.message);
    }
}

/// Prints failing and erroring findings as a table, worst first.
pub fn print_findings(out: &mut impl Write, evaluation: &Evaluation) -> std::io::Result<()> {
    let findings = evaluation.reportable();
    let passed = evaluation.findings.iter().filter(|f| f.status == ComplianceStatus::Pass).count();
    writeln!(
        out,
        "{} policies, {} checks: {} passed, {} failing or erroring",
        evaluation.policies,
        evaluation.findings.len(),
        passed,
        findings.len()
    )?;
    if findings.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "{:<9} {:<6} {:<42} RESOURCE", "SEVERITY", "STATUS", "POLICY")?;
    for f in findings {
        let title = evaluation.titles.get(&f.policy_id).map(String::as_str).unwrap_or(&f.policy_id);
        writeln!(
            out,
            "{:<9} {:<6} {:<42} {}",
            f.severity,
            f.status.as_str(),
            f.policy_id,
            f.resource_id
        )?;
        match &f.status {
            ComplianceStatus::Error(message) => writeln!(out, "{:17}{title}: {message}", "")?,
            _ => writeln!(out, "{:17}{title}", "")?,
        }
    }
    Ok(())
}
