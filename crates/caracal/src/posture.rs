//! Posture: evaluates policy packs over the snapshots a scan wrote, records the verdicts
//! in the compliance store and prints the failing ones.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use caracal_core::{ComplianceStatus, Finding, Resource};
use caracal_python::{Engine, EngineOptions, LoadOptions, PostureLookup};
use caracal_store::Store;
use chrono::Utc;
use tokio::runtime::Handle;

/// The verdicts of one evaluation.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// One per applicable resource × policy.
    pub findings: Vec<Finding>,
    /// Policy id → display name (or the id), for printing.
    pub titles: HashMap<String, String>,
    /// Enabled policies evaluated.
    pub policies: usize,
}

impl Evaluation {
    /// Findings that fail or error and are not suppressed, worst first.
    pub fn reportable(&self) -> Vec<&Finding> {
        let mut out: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| !f.suppressed && f.status != ComplianceStatus::Pass)
            .collect();
        out.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.policy_id.cmp(&b.policy_id))
                .then_with(|| a.resource_id.cmp(&b.resource_id))
        });
        out
    }
}

/// Which policies a scan evaluates.
#[derive(Debug, Clone, Default)]
pub struct PolicySource {
    /// Pack folders.
    pub paths: Vec<PathBuf>,
    /// A virtualenv for third-party imports.
    pub venv: Option<PathBuf>,
    /// Only the policies these packs (PackIDs) name; empty: all.
    pub packs: Vec<String>,
}

impl PolicySource {
    /// The folders `paths`, with the configuration's virtualenv and pack selection.
    pub fn configured(paths: Vec<PathBuf>, config: &caracal_core::config::PoliciesConfig) -> Self {
        PolicySource { paths, venv: config.venv.clone(), packs: config.packs.clone() }
    }
}

/// Loads the policy packs of `source`, evaluates every enabled (and selected) policy on
/// `resources` in the embedded interpreter and stores the verdicts.
pub async fn evaluate(
    store: &Arc<dyn Store>,
    resources: Vec<Resource>,
    source: PolicySource,
) -> anyhow::Result<Evaluation> {
    let PolicySource { paths, venv, packs } = source;
    let lookup = Arc::new(StoreLookup { store: store.clone(), runtime: Handle::current() });
    let evaluation = tokio::task::spawn_blocking(move || -> anyhow::Result<Evaluation> {
        let mut pack = caracal_python::pack::load(&paths, &LoadOptions::default())
            .with_context(|| format!("loading policies from {}", display_paths(&paths)))?;
        pack.select(&packs)?;
        let mut options = EngineOptions::default();
        if let Some(venv) = &venv {
            let site = caracal_python::venv::site_packages(venv)
                .with_context(|| format!("policy virtualenv {}", venv.display()))?;
            // A mistyped path would otherwise only show as policies failing to import.
            if !site.is_dir() {
                anyhow::bail!(
                    "policy virtualenv {}: no {} (is it a virtualenv of the same Python version?)",
                    venv.display(),
                    site.display()
                );
            }
            options.python_paths.push(site);
        }
        let engine = Engine::new(&pack, &options)?;
        engine.set_posture(Some(lookup))?;
        for invalid in engine.invalid() {
            eprintln!(
                "caracal: skipping invalid spec {}: {}",
                invalid.path.display(),
                invalid.message
            );
        }
        let titles = engine
            .policies()
            .iter()
            .map(|p| (p.id.clone(), p.display_name.clone().unwrap_or_else(|| p.id.clone())))
            .collect();
        let findings = engine.findings(&resources, Utc::now())?;
        Ok(Evaluation { findings, titles, policies: engine.policies().len() })
    })
    .await
    .context("policy evaluation task failed")??;
    store.compliance().set_status(&evaluation.findings).await?;
    Ok(evaluation)
}

/// Answers policies' `resource_lookup` / `compliance_status` from the store. Called from
/// the blocking evaluation thread, so it may wait on the runtime.
struct StoreLookup {
    store: Arc<dyn Store>,
    runtime: Handle,
}

impl PostureLookup for StoreLookup {
    fn resource(&self, resource_id: &str) -> Result<Option<serde_json::Value>, String> {
        let found = self.runtime.block_on(self.store.resources().get(resource_id));
        let found = found.map_err(|e| caracal_core::error::chain(&e))?;
        found.map(|r| serde_json::to_value(&r).map_err(|e| e.to_string())).transpose()
    }

    fn compliance(&self, resource_id: &str) -> Result<Vec<(String, String)>, String> {
        let found = self.runtime.block_on(self.store.compliance().for_resource(resource_id));
        let found = found.map_err(|e| caracal_core::error::chain(&e))?;
        Ok(found.into_iter().map(|f| (f.policy_id, f.status.as_str().to_owned())).collect())
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

fn display_paths(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}
