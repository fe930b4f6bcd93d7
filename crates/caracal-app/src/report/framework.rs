//! A report per framework: the verdicts of the policies whose `Reports` name the
//! framework, grouped by control and by section (the control id's first component, as
//! CIS numbers its chapters), with pass / fail / error counts, the failing resources
//! and a score. Written as a table, JSON, CSV or HTML ([`super::html`]).
//!
//! Counts are per resource × policy verdict; suppressed FAILs are counted apart and left
//! out of the score. Score = pass / (pass + fail + error), in percent; none without verdicts.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io::Write;

use caracal_core::{ComplianceStatus, Severity};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Error, ReportData};

/// Verdict counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Passing verdicts.
    pub pass: u64,
    /// Failing, unsuppressed verdicts.
    pub fail: u64,
    /// Verdicts whose policy errored.
    pub error: u64,
    /// Failing verdicts that a `Suppressions` glob matched.
    pub suppressed: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.pass += other.pass;
        self.fail += other.fail;
        self.error += other.error;
        self.suppressed += other.suppressed;
    }

    /// Pass / (pass + fail + error) in percent, one decimal; `None` without verdicts.
    pub fn score(&self) -> Option<f64> {
        let total = self.pass + self.fail + self.error;
        (total > 0).then(|| (self.pass as f64 * 1000.0 / total as f64).round() / 10.0)
    }
}

/// A policy that reports to a control.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyRef {
    /// `PolicyID`.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// Its `AutoRemediationID`.
    pub auto_remediation_id: Option<String>,
}

/// A failing or erroring, unsuppressed verdict under a control.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailingResource {
    /// The resource.
    pub resource_id: String,
    /// Its type.
    pub resource_type: String,
    /// Its account.
    pub account_id: String,
    /// Its region.
    pub region: String,
    /// The policy that failed or errored.
    pub policy_id: String,
    /// The policy's severity.
    pub severity: Severity,
    /// `FAIL` or `ERROR`.
    pub status: &'static str,
    /// The error, for `ERROR`.
    pub message: Option<String>,
    /// The remediation that fixes it, if the policy names one.
    pub auto_remediation_id: Option<String>,
    /// How to fix it by hand.
    pub runbook: Option<String>,
}

/// One control of the framework.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Control {
    /// The control id (`2.3.2`).
    pub id: String,
    /// The policies that report to it.
    pub policies: Vec<PolicyRef>,
    /// Its verdict counts.
    pub counts: Counts,
    /// Its score in percent.
    pub score: Option<f64>,
    /// Failing and erroring verdicts, worst first.
    pub failing: Vec<FailingResource>,
}

/// The controls that share a first id component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// The first component of its controls' ids (`2` for `2.3.2`).
    pub id: String,
    /// Its controls, in id order.
    pub controls: Vec<Control>,
    /// The sum of its controls' counts.
    pub counts: Counts,
    /// Its score in percent.
    pub score: Option<f64>,
}

/// The whole framework report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameworkReport {
    /// The `Reports` key (`CIS-AWS-3.0`).
    pub framework: String,
    /// When it was made.
    pub generated_at: DateTime<Utc>,
    /// Sections in id order.
    pub sections: Vec<Section>,
    /// The sum over every control.
    pub counts: Counts,
    /// The overall score in percent.
    pub score: Option<f64>,
}

/// Orders control ids component by component, numerically where both are numbers
/// (`2.3.2` < `2.3.10`).
fn by_control_id(a: &str, b: &str) -> Ordering {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => x.cmp(y),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

/// Every `Reports` key of the loaded policies, sorted.
pub fn frameworks(data: &ReportData) -> Vec<String> {
    let mut keys: Vec<String> =
        data.policies.values().flat_map(|p| p.reports.keys().cloned()).collect();
    keys.sort();
    keys.dedup();
    keys
}

impl FrameworkReport {
    /// Groups `data`'s verdicts by the controls of `framework`.
    pub fn build(data: &ReportData, framework: &str) -> Result<Self, Error> {
        // Control id → the policies reporting to it.
        let mut controls: BTreeMap<String, Vec<&super::PolicyMeta>> = BTreeMap::new();
        for policy in data.policies.values() {
            for id in policy.reports.get(framework).into_iter().flatten() {
                controls.entry(id.clone()).or_default().push(policy);
            }
        }
        if controls.is_empty() {
            let known = frameworks(data);
            return Err(Error::UnknownFramework {
                framework: framework.to_owned(),
                known: if known.is_empty() { "none".into() } else { known.join(", ") },
            });
        }
        let mut built: Vec<Control> = controls
            .into_iter()
            .map(|(id, policies)| {
                let mut counts = Counts::default();
                let mut failing = Vec::new();
                for policy in &policies {
                    for f in data.findings.iter().filter(|f| f.policy_id == policy.id) {
                        match (&f.status, f.suppressed) {
                            (ComplianceStatus::Pass, _) => counts.pass += 1,
                            (ComplianceStatus::Fail, true) => counts.suppressed += 1,
                            (ComplianceStatus::Fail, false) => counts.fail += 1,
                            (ComplianceStatus::Error(_), _) => counts.error += 1,
                        }
                        if f.status != ComplianceStatus::Pass && !f.suppressed {
                            failing.push(FailingResource {
                                resource_id: f.resource_id.clone(),
                                resource_type: f.resource_type.clone(),
                                account_id: f.account_id.clone(),
                                region: f.region.clone(),
                                policy_id: f.policy_id.clone(),
                                severity: f.severity,
                                status: f.status.as_str(),
                                message: f.status.message().map(str::to_owned),
                                auto_remediation_id: policy.auto_remediation_id.clone(),
                                runbook: policy.runbook.clone(),
                            });
                        }
                    }
                }
                failing.sort_by(|a, b| {
                    b.severity.cmp(&a.severity).then_with(|| a.resource_id.cmp(&b.resource_id))
                });
                Control {
                    id,
                    policies: policies
                        .iter()
                        .map(|p| PolicyRef {
                            id: p.id.clone(),
                            title: p.title.clone(),
                            severity: p.severity,
                            auto_remediation_id: p.auto_remediation_id.clone(),
                        })
                        .collect(),
                    score: counts.score(),
                    counts,
                    failing,
                }
            })
            .collect();
        built.sort_by(|a, b| by_control_id(&a.id, &b.id));
        let mut sections: Vec<Section> = Vec::new();
        for control in built {
            let section_id = control.id.split('.').next().unwrap_or_default().to_owned();
            match sections.last_mut() {
                Some(s) if s.id == section_id => s.controls.push(control),
                _ => sections.push(Section {
                    id: section_id,
                    controls: vec![control],
                    counts: Counts::default(),
                    score: None,
                }),
            }
        }
        let mut counts = Counts::default();
        for section in &mut sections {
            for control in &section.controls {
                section.counts.add(control.counts);
            }
            section.score = section.counts.score();
            counts.add(section.counts);
        }
        Ok(FrameworkReport {
            framework: framework.to_owned(),
            generated_at: data.generated_at,
            sections,
            score: counts.score(),
            counts,
        })
    }

    /// Every control, in order.
    pub fn controls(&self) -> impl Iterator<Item = &Control> {
        self.sections.iter().flat_map(|s| s.controls.iter())
    }

    /// Writes a table: one line per control, then the failing resources under it.
    pub fn write_table(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{}: {} controls, {} pass, {} fail, {} error, {} suppressed, score {}",
            self.framework,
            self.controls().count(),
            self.counts.pass,
            self.counts.fail,
            self.counts.error,
            self.counts.suppressed,
            show_score(self.score)
        )?;
        writeln!(out)?;
        writeln!(
            out,
            "{:<10} {:>5} {:>5} {:>6} {:>7}  POLICIES",
            "CONTROL", "PASS", "FAIL", "ERROR", "SCORE"
        )?;
        for control in self.controls() {
            let policies: Vec<&str> = control.policies.iter().map(|p| p.id.as_str()).collect();
            writeln!(
                out,
                "{:<10} {:>5} {:>5} {:>6} {:>7}  {}",
                control.id,
                control.counts.pass,
                control.counts.fail,
                control.counts.error,
                show_score(control.score),
                policies.join(", ")
            )?;
            for f in &control.failing {
                write!(out, "{:12}{:<5} {:<8} {}", "", f.status, f.severity, f.resource_id)?;
                if let Some(id) = &f.auto_remediation_id {
                    write!(out, "  (remediation {id})")?;
                }
                writeln!(out)?;
            }
        }
        Ok(())
    }

    /// Writes one CSV record per control.
    pub fn write_csv(&self, out: &mut dyn Write) -> Result<(), csv::Error> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record([
            "framework",
            "section",
            "control",
            "policies",
            "pass",
            "fail",
            "error",
            "suppressed",
            "score",
            "failing_resources",
            "remediations",
        ])?;
        for section in &self.sections {
            for c in &section.controls {
                let policies: Vec<&str> = c.policies.iter().map(|p| p.id.as_str()).collect();
                let failing: Vec<&str> = c.failing.iter().map(|f| f.resource_id.as_str()).collect();
                let mut remediations: Vec<&str> =
                    c.policies.iter().filter_map(|p| p.auto_remediation_id.as_deref()).collect();
                remediations.dedup();
                writer.write_record([
                    self.framework.as_str(),
                    &section.id,
                    &c.id,
                    &policies.join("; "),
                    &c.counts.pass.to_string(),
                    &c.counts.fail.to_string(),
                    &c.counts.error.to_string(),
                    &c.counts.suppressed.to_string(),
                    &c.score.map(|s| s.to_string()).unwrap_or_default(),
                    &failing.join("; "),
                    &remediations.join("; "),
                ])?;
            }
        }
        writer.flush()?;
        Ok(())
    }

    /// Writes the report as pretty JSON.
    pub fn write_json(&self, out: &mut dyn Write) -> Result<(), serde_json::Error> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out).map_err(serde_json::Error::io)
    }
}

/// A score as `87.5%`, or `-` without verdicts.
pub fn show_score(score: Option<f64>) -> String {
    score.map(|s| format!("{s}%")).unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_failing_resources_and_score_per_control() {
        let data = super::super::data::tests::sample();
        let report = FrameworkReport::build(&data, "CIS-AWS-3.0").unwrap();
        assert_eq!(report.sections.len(), 1);
        let control = &report.sections[0].controls[0];
        assert_eq!(control.id, "2.1.1");
        assert_eq!(control.counts, Counts { pass: 1, fail: 1, error: 1, suppressed: 1 });
        assert_eq!(control.score, Some(33.3));
        let failing: Vec<&str> = control.failing.iter().map(|f| f.resource_id.as_str()).collect();
        assert_eq!(failing, ["arn:aws:s3:::bad", "arn:aws:s3:::broken"]);
        assert_eq!(
            control.failing[0].auto_remediation_id.as_deref(),
            Some("AWS.S3.EnableBucketVersioning")
        );
        let mut table = Vec::new();
        report.write_table(&mut table).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(table.contains("2.1.1"), "{table}");
        assert!(table.contains("33.3%"), "{table}");
    }

    #[test]
    fn an_unknown_framework_names_the_known_ones() {
        let err = FrameworkReport::build(&super::super::data::tests::sample(), "PCI").unwrap_err();
        assert_eq!(err.to_string(), "no policy reports to framework \"PCI\" (known: CIS-AWS-3.0)");
    }

    #[test]
    fn control_ids_sort_numerically() {
        let mut ids = vec!["2.3.10", "10.1", "2.3.2", "1.a"];
        ids.sort_by(|a, b| by_control_id(a, b));
        assert_eq!(ids, ["1.a", "2.3.2", "2.3.10", "10.1"]);
    }
}
