//! The engine: a loaded [`Pack`] compiled once into the embedded interpreter, evaluated
//! over batches of resources or events.
//!
//! A batch's JSON text is decoded into Python objects by `src/decode.rs` (large nested
//! objects lazily; Python's `json` for anything outside its fast path), every applicable
//! detection runs on each item under one GIL acquisition, and results come back as
//! compact Python lists read while the GIL is held (policies here, rules in
//! `src/outcome.rs`).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use caracal_core::{ComplianceStatus, Finding, Resource, Severity};
use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyList, PyString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::{debug, warn};

use crate::decode;
use crate::error::Error;
use crate::interp::{self, Busy};
use crate::kv::{KvStore, PyKv};
use crate::outcome;
use crate::pack::{DetectionKind, DetectionSpec, InvalidSpec, Pack};
use crate::posture::{PostureLookup, PyPosture};

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
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            time_limit: Duration::from_secs(5),
            python_paths: Vec::new(),
            include_disabled: false,
            import_globals: false,
        }
    }
}

/// One policy's verdict on one resource of a batch.
#[derive(Debug, Clone, PartialEq)]
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
    #[serde(default)]
    pub error: Option<String>,
    /// `title()`, else the rule id.
    #[serde(default)]
    pub title: Option<String>,
    /// `dedup()`, else the title, else `defaultDedupString:<RuleID>`.
    #[serde(default)]
    pub dedup: Option<String>,
    /// `severity()` when it overrides the spec's (upper case).
    #[serde(default)]
    pub severity: Option<String>,
    /// `alert_context()`.
    #[serde(default)]
    pub alert_context: Option<Value>,
    /// `description()`, when defined.
    #[serde(default)]
    pub description: Option<String>,
    /// `reference()`, when defined.
    #[serde(default)]
    pub reference: Option<String>,
    /// `runbook()`, when defined.
    #[serde(default)]
    pub runbook: Option<String>,
    /// `destinations()`, when defined; an empty list suppresses delivery.
    #[serde(default)]
    pub destinations: Option<Vec<String>>,
    /// Optional functions that failed and fell back, as `function: Type: message`.
    #[serde(default)]
    pub errors: Vec<String>,
}

/// A pack compiled into the interpreter.
pub struct Engine {
    py_engine: Py<PyAny>,
    policies: Vec<Arc<DetectionSpec>>,
    rules: Vec<Arc<DetectionSpec>>,
    invalid: Vec<InvalidSpec>,
    time_limit: f64,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("policies", &self.policies.len())
            .field("rules", &self.rules.len())
            .field("invalid", &self.invalid.len())
            .finish()
    }
}

impl Engine {
    /// Compiles every detection, global and data model of `pack`.
    ///
    /// A detection whose Python fails to compile or import (syntax error, missing
    /// module, runaway module code) is left out and listed in [`Engine::invalid`]; so
    /// is a global that fails, with [`EngineOptions::import_globals`].
    pub fn new(pack: &Pack, options: &EngineOptions) -> Result<Self, Error> {
        let _busy = Busy::enter();
        Python::attach(|py| {
            let _loading = interp::loading_lock(py);
            let rt = interp::runtime(py)?;
            for path in &options.python_paths {
                interp::add_sys_path(py, path)?;
            }
            let time_limit = options.time_limit.as_secs_f64();
            rt.call_method1("set_time_limit", (time_limit,)).map_err(Error::python)?;
            let globals: Vec<(String, String, String)> = pack
                .globals
                .iter()
                .map(|g| (g.id.clone(), g.source.clone(), g.python_path.display().to_string()))
                .collect();
            rt.call_method1("set_globals", (globals,)).map_err(Error::python)?;
            let engine = rt.getattr("Engine").and_then(|c| c.call0()).map_err(Error::python)?;
            let mut invalid = Vec::new();
            for model in pack.data_models.iter().filter(|m| m.enabled || options.include_disabled) {
                let (source, file) = match &model.python {
                    Some((path, source)) => (Some(source.as_str()), path.display().to_string()),
                    None => (None, model.spec_path.display().to_string()),
                };
                let added = engine.call_method1(
                    "add_data_model",
                    (&model.id, model.log_types.clone(), model.mappings.to_string(), source, file),
                );
                if let Err(err) = added {
                    invalid.push(InvalidSpec {
                        path: model.spec_path.clone(),
                        message: interp::describe(py, &err),
                    });
                }
            }
            let mut policies = Vec::new();
            let mut rules = Vec::new();
            for det in pack.detections.iter().filter(|d| d.enabled || options.include_disabled) {
                let added = engine.call_method1(
                    "add_detection",
                    (
                        det.kind.as_str(),
                        &det.id,
                        det.severity.as_str(),
                        &det.source,
                        det.python_path.display().to_string(),
                        det.resource_types.clone(),
                        det.log_types.clone(),
                        det.suppressions.clone(),
                    ),
                );
                match added {
                    Ok(_) => match det.kind {
                        DetectionKind::Policy => policies.push(Arc::new(det.clone())),
                        DetectionKind::Rule => rules.push(Arc::new(det.clone())),
                    },
                    Err(err) => {
                        let message = interp::describe(py, &err);
                        debug!(id = %det.id, %message, "Detection does not compile.");
                        invalid.push(InvalidSpec { path: det.python_path.clone(), message });
                    }
                }
            }
            if options.import_globals {
                let failed: Vec<(String, String)> = rt
                    .call_method0("import_globals")
                    .and_then(|failed| failed.extract())
                    .map_err(Error::python)?;
                for (id, message) in failed {
                    let path = pack.globals.iter().find(|g| g.id == id).map(|g| &g.python_path);
                    invalid.push(InvalidSpec {
                        path: path.cloned().unwrap_or_else(|| PathBuf::from(&id)),
                        message,
                    });
                }
            }
            flush(py);
            Ok(Self { py_engine: engine.unbind(), policies, rules, invalid, time_limit })
        })
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
    /// map that lives as long as the process). Applies to every engine in the process.
    pub fn set_kv_store(&self, store: Arc<dyn KvStore>) -> Result<(), Error> {
        Python::attach(|py| {
            let rt = interp::runtime(py)?;
            let bridge = Py::new(py, PyKv { store }).map_err(Error::python)?;
            rt.call_method1("set_kv", (bridge,)).map_err(Error::python)?;
            Ok(())
        })
    }

    /// Answers `caracal_posture` lookups (`resource_lookup`, `compliance_status`) from
    /// `lookup`; `None` detaches it. Applies to every engine in the process.
    pub fn set_posture(&self, lookup: Option<Arc<dyn PostureLookup>>) -> Result<(), Error> {
        Python::attach(|py| {
            let rt = interp::runtime(py)?;
            let bridge = match lookup {
                Some(lookup) => Some(Py::new(py, PyPosture { lookup }).map_err(Error::python)?),
                None => None,
            };
            rt.call_method1("set_posture", (bridge,)).map_err(Error::python)?;
            Ok(())
        })
    }

    /// Evaluates every applicable policy (by `ResourceTypes`) on every resource.
    pub fn evaluate_resources(&self, resources: &[Resource]) -> Result<Vec<PolicyVerdict>, Error> {
        let text = serde_json::to_string(resources).map_err(Error::python)?;
        self.evaluate_resources_json(&text)
    }

    /// As [`Engine::evaluate_resources`], for resources already serialized as one JSON array.
    pub fn evaluate_resources_json(&self, json_array: &str) -> Result<Vec<PolicyVerdict>, Error> {
        self.call_batch("eval_policies", json_array, read_verdicts)
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
        self.call_batch("eval_rules", json_array, outcome::read_outcomes)
    }

    /// The effective severity of an outcome: the `severity()` override, else the spec's.
    pub fn outcome_severity(&self, outcome: &RuleOutcome) -> Severity {
        let spec = self.rules.get(outcome.rule).map(|r| r.severity).unwrap_or(Severity::Info);
        outcome.severity.as_deref().and_then(|s| s.parse().ok()).unwrap_or(spec)
    }

    /// The plain-CPython reference for benchmarks: `json_array`'s items converted once,
    /// up front, so that [`Baseline::run`] only calls the same detections on them.
    pub fn baseline(&self, kind: DetectionKind, json_array: &str) -> Result<Baseline, Error> {
        let _busy = Busy::enter();
        Python::attach(|py| {
            let rt = interp::runtime(py)?;
            let prepared = rt
                .call_method1("baseline_prepare", (&self.py_engine, kind.as_str(), json_array))
                .map_err(|e| Error::Python(interp::describe(py, &e)))?;
            let run = rt.getattr("baseline_run").map_err(Error::python)?;
            Ok(Baseline { run: run.unbind(), prepared: prepared.unbind() })
        })
    }

    /// Runs the embedded tests of one compiled detection; JSON in, JSON out.
    pub(crate) fn run_tests_json(
        &self,
        kind: DetectionKind,
        index: usize,
        tests_json: &str,
    ) -> Result<String, Error> {
        let _busy = Busy::enter();
        Python::attach(|py| {
            let rt = interp::runtime(py)?;
            rt.call_method1("set_time_limit", (self.time_limit,)).map_err(Error::python)?;
            let out = rt
                .call_method1("run_tests", (&self.py_engine, kind.as_str(), index, tests_json))
                .map_err(|e| Error::Python(interp::describe(py, &e)))?;
            flush(py);
            out.extract::<String>().map_err(Error::python)
        })
    }

    /// Calls a batch method of the runtime's engine with the decoded batch (or its text,
    /// outside the decoder's fast path) and reads the result while holding the GIL.
    fn call_batch<T>(
        &self,
        method: &str,
        json_array: &str,
        read: impl FnOnce(&Bound<'_, PyAny>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let _busy = Busy::enter();
        Python::attach(|py| {
            let rt = interp::runtime(py)?;
            rt.call_method1("set_time_limit", (self.time_limit,)).map_err(Error::python)?;
            let types = decode::Types::of(&rt).map_err(Error::python)?;
            // A batch allocates thousands of containers that live until it is dropped:
            // with the cyclic collector on, each 700 allocations would traverse them all
            // again. Off for the call, on again once the batch is freed (detections'
            // own cycles are collected then).
            let gc = py.import("gc").map_err(Error::python)?;
            let collecting = gc
                .call_method0("isenabled")
                .and_then(|on| on.is_truthy())
                .map_err(Error::python)?;
            if collecting {
                gc.call_method0("disable").map_err(Error::python)?;
            }
            let result = (|| {
                let batch = match decode::batch(py, json_array, &types).map_err(Error::python)? {
                    Some(list) => list.into_any(),
                    None => PyString::new(py, json_array).into_any(),
                };
                let out = self
                    .py_engine
                    .call_method1(py, method, (batch,))
                    .map_err(|e| Error::Python(interp::describe(py, &e)))?;
                flush(py);
                // Reading results may run detection code (alert contexts' `__str__`):
                // under the time limit, so a runaway one is interrupted, not a hang.
                let outer = rt.call_method0("arm").map_err(Error::python)?;
                let read = read(out.bind(py));
                rt.call_method1("disarm", (outer,)).map_err(Error::python)?;
                read
            })();
            if collecting {
                gc.call_method0("enable").map_err(Error::python)?;
            }
            result
        })
    }
}

/// Turns `eval_policies`' compact results (python/_caracal_runtime/engine.py) into verdicts.
fn read_verdicts(out: &Bound<'_, PyAny>) -> Result<Vec<PolicyVerdict>, Error> {
    type Batch<'py> =
        (Vec<Vec<usize>>, Vec<usize>, Bound<'py, PyList>, Vec<(usize, String)>, Vec<usize>);
    let (groups, rows, results, errors, suppressed): Batch<'_> =
        out.extract().map_err(Error::python)?;
    let mut messages: HashMap<usize, String> = errors.into_iter().collect();
    let suppressed: HashSet<usize> = suppressed.into_iter().collect();
    let mut verdicts = Vec::with_capacity(results.len());
    let mut results = results.iter().enumerate();
    for (resource, group) in rows.into_iter().enumerate() {
        let policies = groups.get(group).map(Vec::as_slice).unwrap_or_default();
        for &policy in policies {
            let Some((position, result)) = results.next() else {
                return Err(Error::Python("eval_policies returned too few results".into()));
            };
            let status = match result.cast::<PyBool>() {
                Ok(b) if b.is_true() => ComplianceStatus::Pass,
                Ok(_) => ComplianceStatus::Fail,
                Err(_) => {
                    ComplianceStatus::Error(messages.remove(&position).unwrap_or_else(|| {
                        let name =
                            result.get_type().name().map(|n| n.to_string()).unwrap_or_default();
                        format!("TypeError: policy() returned {name}, not bool")
                    }))
                }
            };
            verdicts.push(PolicyVerdict {
                resource,
                policy,
                status,
                suppressed: suppressed.contains(&position),
            });
        }
    }
    Ok(verdicts)
}

/// Pre-built inputs and the detections to call on them; see [`Engine::baseline`].
pub struct Baseline {
    run: Py<PyAny>,
    prepared: Py<PyAny>,
}

impl Baseline {
    /// Calls every applicable detection on every pre-built input in a pure Python loop;
    /// returns how many calls returned True.
    pub fn run(&self) -> Result<usize, Error> {
        Python::attach(|py| {
            let hits = self
                .run
                .call1(py, (self.prepared.clone_ref(py),))
                .map_err(|e| Error::Python(interp::describe(py, &e)))?;
            hits.extract::<usize>(py).map_err(Error::python)
        })
    }
}

/// Flushes Python's stdout and stderr: pyo3 never finalizes the interpreter, so
/// buffered `print()` output would be lost when they are not terminals.
fn flush(py: Python<'_>) {
    for stream in ["stdout", "stderr"] {
        let flushed = py.import("sys").and_then(|sys| sys.getattr(stream)?.call_method0("flush"));
        if let Err(err) = flushed {
            warn!(stream, error = %err, "Cannot flush Python output.");
        }
    }
}
