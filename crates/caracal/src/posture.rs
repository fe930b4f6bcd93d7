//! Printing posture results: the failing and erroring findings of an evaluation.

use std::io::Write;

use caracal_app::Evaluation;
use caracal_app::report::table;
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
    table::write_header(out)?;
    for f in findings {
        let title = evaluation.titles.get(&f.policy_id).map(String::as_str).unwrap_or(&f.policy_id);
        table::write_row(out, f, title)?;
    }
    Ok(())
}
