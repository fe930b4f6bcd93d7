//! The engine: a loaded [`Pack`] compiled once, evaluated over batches of resources or
//! events, either in supervised worker processes ([`Isolation::Workers`], see
//! `src/worker/`) or in this process's interpreter ([`Isolation::InProcess`],
//! `src/local.rs`). Both give the same verdicts and outcomes; a worker adds that a
//! detection which hangs in C, exits or crashes its process costs only its own results.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use caracal_core::{ComplianceStatus, Finding, Resource, Severity};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::kv::KvStore;
pub use crate::local::Baseline;
use crate::local::Local;
use crate::pack::{DetectionKind, DetectionSpec, InvalidSpec, Pack};
use crate::posture::PostureLookup;
use crate::worker::{self, Isolation, Pool};

/// How the engine runs detections.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The longest one call of a detection function may run before it is interrupted
    /// and reported as `DetectionTimeout`.
    pub time_limit: Duration,
    /// Folders put in front of `sys.path`, typically a virtualenv's `site-packages`
    /// (see [`crate::venv::site_packages`]). The embedded interpreter ignores `VIRTUAL_ENV`.
    pub python_paths: Vec<PathBuf>,
    /// Also compile detections with `Enabled: false` (the test runner does).
    pub include_disabled: bool,
    /// Import every global up front and list those that fail in [`Engine::invalid`]
    /// (the test runner does, as panther-analysis-tool). Otherwise a global runs when a
    /// detection first imports it, and one that no detection imports never runs.
    pub import_globals: bool,
    /// Where detections run. Default: [`Isolation::detect`], worker processes when this
    /// program can start them.
    pub isolation: Isolation,
    /// The address space a worker process may use (`RLIMIT_AS`), in bytes: past it,
    /// allocations fail with `MemoryError` in the detection that makes them.
    pub memory_limit: u64,
    /// The CPU time a worker process may use in its life (`RLIMIT_CPU`), a backstop
    /// behind the time limit: a worker past it is killed and replaced.
    pub cpu_limit: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            time_limit: Duration::from_secs(5),
            python_paths: Vec::new(),
            include_disabled: false,
            import_globals: false,
            isolation: Isolation::detect(),
            memory_limit: 2 << 30,
            cpu_limit: Duration::from_secs(3600),
        }
    }
}

/// One policy's verdict on one resource of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyVerdict {
    /// Index of the resource in the batch.
    pub resource: usize,
    /// Index of the policy in [`Engine::policies`].
    pub policy: usize,
    /// PASS, FAIL or ERROR (`Type: message`).
    pub status: ComplianceStatus,
    /// A `Suppressions` glob matched the resource id: store it, never report it.
    pub suppressed: bool,
}

/// What one rule made of one event: an alert or an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleOutcome {
    /// Index of the event in the batch.
    pub event: usize,
    /// Index of the rule in [`Engine::rules`].
    pub rule: usize,
    /// `rule()` raised or returned a non-bool: `rule: Type: message`. No alert fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `title()`, else the rule id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `dedup()`, else the title, else `defaultDedupString:<RuleID>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup: Option<String>,
    /// `severity()` when it overrides the spec's (upper case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// `alert_context()`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_context: Option<Value>,
    /// `description()`, when defined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `reference()`, when defined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// `runbook()`, when defined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    /// `destinations()`, when defined; an empty list suppresses delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destinations: Option<Vec<String>>,
    /// Optional functions that failed and fell back, as `function: Type: message`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Where an engine's detections run.
enum Runner {
    Local(Local),
    Workers(Pool),
}

/// A pack compiled for evaluation.
pub struct Engine {
    runner: Runner,
    policies: Vec<Arc<DetectionSpec>>,
    rules: Vec<Arc<DetectionSpec>>,
    invalid: Vec<InvalidSpec>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("isolated", &matches!(self.runner, Runner::Workers(_)))
            .field("policies", &self.policies.len())
            .field("rules", &self.rules.len())
            .field("invalid", &self.invalid.len())
            .finish()
    }
}

impl Engine {
    /// Compiles every detection, global and data model of `pack`: in a first worker
    /// process, or in this process with [`Isolation::InProcess`].
    ///
    /// A detection whose Python fails to compile or import (syntax error, missing
    /// module, runaway module code, or module code that kills its worker process) is
    /// left out and listed in [`Engine::invalid`]; so is a global that fails, with
    /// [`EngineOptions::import_globals`].
    pub fn new(pack: &Pack, options: &EngineOptions) -> Result<Self, Error> {
        match &options.isolation {
            Isolation::InProcess => {
                let local = Local::new(pack, options, &mut |_| {})?;
                Ok(Self {
                    policies: local.policies.clone(),
                    rules: local.rules.clone(),
                    invalid: local.invalid.clone(),
                    runner: Runner::Local(local),
                })
            }
            Isolation::Workers(command) => {
                let started = worker::start(pack, options, command)?;
                Ok(Self {
                    policies: started.policies,
                    rules: started.rules,
                    invalid: started.invalid,
                    runner: Runner::Workers(started.pool),
                })
            }
        }
    }

    /// True when detections run in worker processes.
    pub fn is_isolated(&self) -> bool {
        matches!(self.runner, Runner::Workers(_))
    }

    /// The compiled policies, indexed by [`PolicyVerdict::policy`].
    pub fn policies(&self) -> &[Arc<DetectionSpec>] {
        &self.policies
    }

    /// The compiled rules, indexed by [`RuleOutcome::rule`].
    pub fn rules(&self) -> &[Arc<DetectionSpec>] {
        &self.rules
    }

    /// Detections, data models and globals that did not compile, with `Type: message`.
    pub fn invalid(&self) -> &[InvalidSpec] {
        &self.invalid
    }

    /// Backs `panther_detection_helpers.caching` with `store` (default: an in-process
    /// map that lives as long as the process). Applies to every engine in the process
    /// (worker processes ask this process).
    pub fn set_kv_store(&self, store: Arc<dyn KvStore>) -> Result<(), Error> {
        match &self.runner {
            Runner::Local(local) => local.set_kv_store(store),
            Runner::Workers(_) => {
                worker::set_kv_store(store);
                Ok(())
            }
        }
    }

    /// Answers `caracal_posture` lookups (`resource_lookup`, `compliance_status`) from
    /// `lookup`; `None` detaches it. Applies to every engine in the process.
    pub fn set_posture(&self, lookup: Option<Arc<dyn PostureLookup>>) -> Result<(), Error> {
        match &self.runner {
            Runner::Local(local) => local.set_posture(lookup),
            Runner::Workers(_) => {
                worker::set_posture(lookup);
                Ok(())
            }
        }
    }

    /// Evaluates every applicable policy (by `ResourceTypes`) on every resource.
    pub fn evaluate_resources(&self, resources: &[Resource]) -> Result<Vec<PolicyVerdict>, Error> {
        let text = serde_json::to_string(resources).map_err(Error::python)?;
        self.evaluate_resources_json(&text)
    }

    /// As [`Engine::evaluate_resources`], for resources already serialized as one JSON array.
    pub fn evaluate_resources_json(&self, json_array: &str) -> Result<Vec<PolicyVerdict>, Error> {
        match &self.runner {
            Runner::Local(local) => local.evaluate_resources_json(json_array),
            Runner::Workers(pool) => pool.evaluate_resources(json_array, &self.policies),
        }
    }

    /// Evaluates the policies on `resources` and returns one [`Finding`] per applicable
    /// resource × policy, stamped `evaluated_at`: what the compliance store keeps.
    pub fn findings(
        &self,
        resources: &[Resource],
        evaluated_at: DateTime<Utc>,
    ) -> Result<Vec<Finding>, Error> {
        let verdicts = self.evaluate_resources(resources)?;
        Ok(verdicts
            .into_iter()
            .filter_map(|v| {
                let resource = resources.get(v.resource)?;
                let policy = self.policies.get(v.policy)?;
                Some(Finding {
                    resource_id: resource.resource_id.clone(),
                    resource_type: resource.resource_type.to_string(),
                    account_id: resource.account_id.clone(),
                    region: resource.region.clone(),
                    policy_id: policy.id.clone(),
                    severity: policy.severity,
                    status: v.status,
                    suppressed: v.suppressed,
                    evaluated_at,
                    first_seen: None,
                })
            })
            .collect())
    }

    /// Runs the rules registered for each event's `p_log_type` over `events`; returns
    /// the matches (with their alert fields) and the errors. Non-matches return nothing.
    pub fn evaluate_events(&self, events: &[Value]) -> Result<Vec<RuleOutcome>, Error> {
        let text = serde_json::to_string(events).map_err(Error::python)?;
        self.evaluate_events_json(&text)
    }

    /// As [`Engine::evaluate_events`], for events already serialized as one JSON array.
    pub fn evaluate_events_json(&self, json_array: &str) -> Result<Vec<RuleOutcome>, Error> {
        match &self.runner {
            Runner::Local(local) => local.evaluate_events_json(json_array),
            Runner::Workers(pool) => pool.evaluate_events(json_array, &self.rules),
        }
    }

    /// The effective severity of an outcome: the `severity()` override, else the spec's.
    pub fn outcome_severity(&self, outcome: &RuleOutcome) -> Severity {
        let spec = self.rules.get(outcome.rule).map(|r| r.severity).unwrap_or(Severity::Info);
        outcome.severity.as_deref().and_then(|s| s.parse().ok()).unwrap_or(spec)
    }

    /// The plain-CPython reference for benchmarks: `json_array`'s items converted once,
    /// up front, so that [`Baseline::run`] only calls the same detections on them. Needs
    /// an in-process engine ([`Isolation::InProcess`]).
    pub fn baseline(&self, kind: DetectionKind, json_array: &str) -> Result<Baseline, Error> {
        match &self.runner {
            Runner::Local(local) => local.baseline(kind, json_array),
            Runner::Workers(_) => Err(Error::Python(
                "the benchmark baseline runs in an in-process engine (Isolation::InProcess)".into(),
            )),
        }
    }

    /// Runs the embedded tests of one compiled detection; JSON in, JSON out.
    pub(crate) fn run_tests_json(
        &self,
        kind: DetectionKind,
        index: usize,
        tests_json: &str,
    ) -> Result<String, Error> {
        match &self.runner {
            Runner::Local(local) => local.run_tests_json(kind, index, tests_json),
            Runner::Workers(pool) => pool.run_tests(kind, index, tests_json),
        }
    }
}
