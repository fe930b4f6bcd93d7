//! Posture use cases: scan accounts into the store, evaluate policy packs on snapshots,
//! store the verdicts.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use caracal_core::config::PoliciesConfig;
use caracal_core::{Cause, ComplianceStatus, Finding, Resource, Severity, Transition};
use caracal_detect::{PolicyAlertReport, PolicyMeta, StoreLookup};
use caracal_python::pack::{DetectionKind, InvalidSpec};
use caracal_python::{Engine, EngineOptions, LoadOptions};
use caracal_scan::{Inventory, Progress, ScanOutcome, ScanRequest, Scanner};
use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::auto_remediate::{self, AutoReport, AutoSpec};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::events::{PoliciesEvaluated, ScanFinished};

/// Which policies to evaluate: pack folders, a virtualenv for their imports, and an
/// optional pack selection. Also the key under which a [`Context`] keeps the compiled
/// engine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
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
    pub fn configured(paths: Vec<PathBuf>, config: &PoliciesConfig) -> Self {
        PolicySource { paths, venv: config.venv.clone(), packs: config.packs.clone() }
    }

    /// The configured `[policies]`, requiring every folder to exist: what a daemon or
    /// a function evaluates. A missing folder is an error, never "no policies".
    pub fn required(config: &PoliciesConfig) -> Result<Self> {
        if config.paths.is_empty() {
            return Err(Error::Invalid("[policies] paths is empty: nothing to evaluate".into()));
        }
        if let Some(missing) = config.paths.iter().find(|p| !p.is_dir()) {
            return Err(Error::Invalid(format!(
                "policy folder {} does not exist",
                missing.display()
            )));
        }
        Ok(Self::configured(config.paths.clone(), config))
    }

    /// Loads and compiles the packs. Blocking (holds the GIL).
    pub(crate) fn compile(&self) -> Result<CompiledPolicies> {
        let shown = display_paths(&self.paths);
        let mut pack = caracal_python::pack::load(&self.paths, &LoadOptions::default())
            .map_err(Error::python(format!("loading policies from {shown}")))?;
        pack.select(&self.packs).map_err(Error::python("selecting policy packs"))?;
        let mut options = EngineOptions::default();
        if let Some(venv) = &self.venv {
            let site = caracal_python::venv::site_packages(venv)
                .map_err(Error::python(format!("policy virtualenv {}", venv.display())))?;
            // A mistyped path would otherwise only show as policies failing to import.
            if !site.is_dir() {
                return Err(Error::Invalid(format!(
                    "policy virtualenv {}: no {} (is it a virtualenv of the same Python version?)",
                    venv.display(),
                    site.display()
                )));
            }
            options.python_paths.push(site);
        }
        let engine = Engine::new(&pack, &options).map_err(Error::python("compiling policies"))?;
        let mut broken = Vec::new();
        for invalid in engine.invalid() {
            warn!(
                path = %invalid.path.display(), message = %invalid.message,
                "Policy does not compile; its resources get ERROR verdicts."
            );
            // A policy whose module fails to import still owes a verdict on its resources:
            // ERROR with the reason, never silence (#11.3).
            let spec = pack.detections.iter().find(|d| {
                d.kind == DetectionKind::Policy
                    && d.enabled
                    && (d.python_path == invalid.path || d.spec_path == invalid.path)
            });
            if let Some(spec) = spec {
                broken.push(BrokenPolicy {
                    id: spec.id.clone(),
                    title: spec.display_name.clone().unwrap_or_else(|| spec.id.clone()),
                    severity: spec.severity,
                    resource_types: spec.resource_types.clone(),
                    message: invalid.message.clone(),
                });
            }
        }
        let invalid = engine.invalid().to_vec();
        Ok(CompiledPolicies { engine, broken, invalid })
    }
}

/// A pack compiled once: the engine and the policies that failed to compile.
pub(crate) struct CompiledPolicies {
    pub(crate) engine: Engine,
    pub(crate) broken: Vec<BrokenPolicy>,
    pub(crate) invalid: Vec<InvalidSpec>,
}

/// An enabled policy that did not compile or import.
pub(crate) struct BrokenPolicy {
    id: String,
    title: String,
    severity: Severity,
    resource_types: Vec<String>,
    message: String,
}

impl BrokenPolicy {
    fn applies_to(&self, resource: &Resource) -> bool {
        self.resource_types.is_empty()
            || self.resource_types.iter().any(|t| t == resource.resource_type.as_str())
    }
}

/// The verdicts of one evaluation.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// One per applicable resource × policy.
    pub findings: Vec<Finding>,
    /// Policy id → display name (or the id), for printing.
    pub titles: HashMap<String, String>,
    /// Enabled policies evaluated (those that failed to compile included: they give ERROR).
    pub policies: usize,
    /// Specs that did not load or compile, with the reason.
    pub invalid: Vec<InvalidSpec>,
    /// The verdict changes this evaluation stored.
    pub transitions: Vec<Transition>,
    /// Policy alerts opened, added to and resolved by those changes.
    pub alerts: PolicyAlertReport,
    /// What automatic remediation did, when `[remediation] auto` is on.
    pub remediation: Option<AutoReport>,
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

/// Which accounts, regions and types one scan covers.
#[derive(Debug, Clone, Default)]
pub struct ScanScope {
    /// Only these account ids (empty: every configured account, or the credentials').
    pub accounts: Vec<String>,
    /// Regions and resource types.
    pub request: ScanRequest,
}

/// What [`scan_and_evaluate`] did.
#[derive(Debug)]
pub struct ScanResult {
    /// This scan's id, as recorded on the compliance transitions it caused.
    pub scan_id: String,
    /// The scan's report and the snapshots it wrote.
    pub outcome: ScanOutcome,
    /// The policy verdicts, when policies were evaluated.
    pub evaluation: Option<Evaluation>,
}

impl ScanResult {
    /// True when a failing or erroring, unsuppressed finding was reported.
    pub fn failing(&self) -> bool {
        self.evaluation.as_ref().is_some_and(|e| !e.reportable().is_empty())
    }
}

/// Scans `scope` into the store with the configured concurrency, then evaluates
/// `policies` (if any) on the snapshots the scan wrote and stores the verdicts.
pub async fn scan_and_evaluate(
    ctx: &Arc<Context>,
    scope: &ScanScope,
    policies: Option<&PolicySource>,
    progress: &dyn Progress,
) -> Result<ScanResult> {
    let result = Box::pin(scan_then_evaluate(ctx, scope, policies, progress)).await;
    let error = result.as_ref().err().map(|e| caracal_core::error::chain(e));
    caracal_telemetry::emit(ScanFinished {
        scan_id: result.as_ref().ok().map(|r| r.scan_id.as_str()),
        error: error.as_deref(),
    });
    result
}

async fn scan_then_evaluate(
    ctx: &Arc<Context>,
    scope: &ScanScope,
    policies: Option<&PolicySource>,
    progress: &dyn Progress,
) -> Result<ScanResult> {
    let config = ctx.config();
    let (sessions, unreachable, accounts_at_once) = match &config.organization {
        Some(org) => {
            let (sessions, errors) =
                crate::organization::sessions(ctx, org, &scope.accounts).await?;
            (sessions, errors, org.concurrency)
        }
        None => (ctx.sessions(&scope.accounts).await?, Vec::new(), 1),
    };
    let scan_id = new_scan_id(Utc::now())?;
    let mut outcome = Scanner::new(ctx.store().await?.clone(), config.scan.concurrency)
        .excluding(&config.scan.exclude_types, &config.scan.exclude_regions)?
        .accounts_at_once(accounts_at_once)
        .reading_from(Inventory::new(config.scan.source, config.scan.config_max_age_hours))
        .scan(&sessions, &scope.request, progress)
        .await?;
    // Accounts that could not be reached are scan errors of their own.
    outcome.report.errors.extend(unreachable);
    let evaluation = match policies {
        Some(source) => {
            let cause = Cause {
                scan_id: Some(scan_id.clone()),
                snapshots: outcome
                    .resources
                    .iter()
                    .map(|r| (r.resource_id.clone(), snapshot_version(r)))
                    .collect(),
            };
            let evaluation = evaluate_with(ctx, outcome.resources.clone(), source, cause).await?;
            prune_history(ctx).await?;
            Some(evaluation)
        }
        None => None,
    };
    Ok(ScanResult { scan_id, outcome, evaluation })
}

/// A scan id: its start time and a random suffix, such as `20261206T221500Z-3f9a01c2`.
fn new_scan_id(at: DateTime<Utc>) -> Result<String> {
    let mut buf = [0u8; 4];
    getrandom::fill(&mut buf).map_err(|e| Error::Invalid(format!("no randomness: {e}")))?;
    Ok(format!("{}-{:08x}", at.format("%Y%m%dT%H%M%SZ"), u32::from_be_bytes(buf)))
}

/// The version of a snapshot as the store's history knows it: its content hash.
fn snapshot_version(resource: &Resource) -> String {
    format!("{:016x}", resource.content_hash())
}

/// Forgets transitions older than `[policies] history_days` (0: keep all).
async fn prune_history(ctx: &Context) -> Result<()> {
    let days = ctx.config().policies.history_days;
    if days == 0 {
        return Ok(());
    }
    // A horizon before the representable past keeps everything.
    let Some(before) = chrono::Duration::try_days(i64::from(days))
        .and_then(|age| Utc::now().checked_sub_signed(age))
    else {
        return Ok(());
    };
    let store = ctx.store().await?;
    let pruned = store
        .compliance()
        .prune_transitions(before)
        .await
        .map_err(Error::store("pruning compliance history"))?;
    if pruned > 0 {
        info!(pruned, days, "Pruned compliance transitions past retention.");
    }
    Ok(())
}

/// Evaluates every enabled (and selected) policy of `source` on `resources` in the
/// embedded interpreter, with posture lookups answered from the store, and stores the
/// verdicts and their transitions. Transitions raise and resolve policy alerts (when
/// `[policies] alerts` is on), and failing resources are fixed automatically when
/// `[remediation] auto` is on, then evaluated again.
pub async fn evaluate(
    ctx: &Arc<Context>,
    resources: Vec<Resource>,
    source: &PolicySource,
) -> Result<Evaluation> {
    let cause = Cause {
        scan_id: None,
        snapshots: resources.iter().map(|r| (r.resource_id.clone(), snapshot_version(r))).collect(),
    };
    evaluate_with(ctx, resources, source, cause).await
}

async fn evaluate_with(
    ctx: &Arc<Context>,
    resources: Vec<Resource>,
    source: &PolicySource,
    cause: Cause,
) -> Result<Evaluation> {
    let (mut evaluation, specs) = evaluate_once(ctx, resources.clone(), source, &cause).await?;
    if ctx.config().remediation.auto {
        let selection = auto_remediate::Selection::every_policy(&ctx.config().remediation);
        let report =
            auto_remediate::run(ctx, &evaluation, &resources, &specs, &selection, &cause).await?;
        let fixed = report.fixed_snapshots();
        if !fixed.is_empty() {
            let cause = Cause {
                scan_id: cause.scan_id.clone(),
                snapshots: fixed
                    .iter()
                    .map(|r| (r.resource_id.clone(), snapshot_version(r)))
                    .collect(),
            };
            let (again, _) = evaluate_once(ctx, fixed, source, &cause).await?;
            evaluation.absorb(again);
        }
        evaluation.remediation = Some(report);
    }
    Ok(evaluation)
}

/// What the evaluation needs of each compiled policy besides its verdicts.
pub(crate) struct PolicySpecs {
    pub(crate) meta: HashMap<String, PolicyMeta>,
    pub(crate) auto: HashMap<String, AutoSpec>,
}

impl PolicySpecs {
    fn of(engine: &Engine) -> Self {
        let policies = engine.policies();
        Self {
            meta: policies.iter().map(|p| (p.id.clone(), PolicyMeta::from_spec(p))).collect(),
            auto: policies
                .iter()
                .filter_map(|p| AutoSpec::from_spec(p).map(|a| (p.id.clone(), a)))
                .collect(),
        }
    }

    /// The specs of `source`'s compiled policies (compiled once per context).
    pub(crate) async fn load(ctx: &Arc<Context>, source: &PolicySource) -> Result<Self> {
        let (ctx, source) = (ctx.clone(), source.clone());
        tokio::task::spawn_blocking(move || {
            ctx.policy_engine(&source).map(|compiled| Self::of(&compiled.engine))
        })
        .await
        .map_err(|e| Error::Task("loading policies", e.to_string()))?
    }
}

/// Evaluates fixed resources again and stores the verdicts (no further fixing).
pub(crate) async fn evaluate_fixed(
    ctx: &Arc<Context>,
    fixed: Vec<Resource>,
    source: &PolicySource,
    scan_id: Option<String>,
) -> Result<Evaluation> {
    let cause = Cause {
        scan_id,
        snapshots: fixed.iter().map(|r| (r.resource_id.clone(), snapshot_version(r))).collect(),
    };
    Ok(evaluate_once(ctx, fixed, source, &cause).await?.0)
}

/// One evaluation: verdicts stored with their transitions, policy alerts raised.
async fn evaluate_once(
    ctx: &Arc<Context>,
    resources: Vec<Resource>,
    source: &PolicySource,
    cause: &Cause,
) -> Result<(Evaluation, PolicySpecs)> {
    let store = ctx.store().await?.clone();
    let lookup = Arc::new(StoreLookup::new(store.clone()));
    let (ctx2, source) = (ctx.clone(), source.clone());
    let evaluation = tokio::task::spawn_blocking(move || -> Result<(Evaluation, PolicySpecs)> {
        let compiled = ctx2.policy_engine(&source)?;
        let engine = &compiled.engine;
        engine.set_posture(Some(lookup)).map_err(Error::python("attaching posture lookups"))?;
        let mut titles: HashMap<String, String> = engine
            .policies()
            .iter()
            .map(|p| (p.id.clone(), p.display_name.clone().unwrap_or_else(|| p.id.clone())))
            .collect();
        let now = Utc::now();
        let findings =
            engine.findings(&resources, now).map_err(Error::python("evaluating policies"));
        // The lookup holds the store: detach it whatever happened.
        let _ = engine.set_posture(None);
        let mut findings = findings?;
        for broken in &compiled.broken {
            titles.insert(broken.id.clone(), broken.title.clone());
            for resource in resources.iter().filter(|r| broken.applies_to(r)) {
                findings.push(Finding {
                    resource_id: resource.resource_id.clone(),
                    resource_type: resource.resource_type.to_string(),
                    account_id: resource.account_id.clone(),
                    region: resource.region.clone(),
                    policy_id: broken.id.clone(),
                    severity: broken.severity,
                    status: ComplianceStatus::Error(broken.message.clone()),
                    suppressed: false,
                    evaluated_at: now,
                    first_seen: None,
                });
            }
        }
        let policies = engine.policies().len() + compiled.broken.len();
        let specs = PolicySpecs::of(engine);
        let evaluation = Evaluation {
            findings,
            titles,
            policies,
            invalid: compiled.invalid.clone(),
            ..Evaluation::default()
        };
        Ok((evaluation, specs))
    })
    .await
    .map_err(|e| Error::Task("policy evaluation", e.to_string()))??;
    let (mut evaluation, specs) = evaluation;
    caracal_telemetry::emit(PoliciesEvaluated { findings: &evaluation.findings });
    evaluation.transitions = store
        .compliance()
        .record(&evaluation.findings, cause)
        .await
        .map_err(Error::store("storing compliance"))?;
    if ctx.config().policies.alerts && !evaluation.transitions.is_empty() {
        let router = crate::alerts::router(ctx).await?;
        evaluation.alerts = caracal_detect::policy_alerts::raise(
            store.as_ref(),
            &router,
            &evaluation.transitions,
            &specs.meta,
        )
        .await
        .map_err(Error::detect("raising policy alerts"))?;
        let alerts = &evaluation.alerts;
        if !alerts.opened.is_empty() || !alerts.resolved.is_empty() {
            caracal_detect::deliver_pending(store.as_ref(), &router, &Default::default())
                .await
                .map_err(Error::detect("delivering policy alerts"))?;
        }
    }
    Ok((evaluation, specs))
}

impl Evaluation {
    /// Replaces this evaluation's verdicts on the resources `again` evaluated (after
    /// they were fixed) with the new ones, and adds its transitions and alerts.
    pub(crate) fn absorb(&mut self, again: Evaluation) {
        let ids: std::collections::HashSet<&str> =
            again.findings.iter().map(|f| f.resource_id.as_str()).collect();
        self.findings.retain(|f| !ids.contains(f.resource_id.as_str()));
        self.findings.extend(again.findings);
        self.transitions.extend(again.transitions);
        self.alerts.opened.extend(again.alerts.opened);
        self.alerts.updated.extend(again.alerts.updated);
        self.alerts.resolved.extend(again.alerts.resolved);
    }
}

/// Re-evaluates the stored snapshots of `resource_ids` (the API's and the change
/// events' "evaluate these now"). Ids with no live snapshot are returned as missing.
pub async fn evaluate_ids(
    ctx: &Arc<Context>,
    resource_ids: &[String],
    source: &PolicySource,
) -> Result<(Evaluation, Vec<String>)> {
    let mut resources = Vec::new();
    let mut missing = Vec::new();
    let store = ctx.store().await?;
    for id in resource_ids {
        let found = store
            .resources()
            .get(id)
            .await
            .map_err(Error::store(format!("reading resource {id}")))?;
        match found {
            Some(resource) => resources.push(resource),
            None => missing.push(id.clone()),
        }
    }
    Ok((evaluate(ctx, resources, source).await?, missing))
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}
