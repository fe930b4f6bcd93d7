//! The in-process engine: a loaded [`Pack`] compiled into this process's embedded
//! interpreter, evaluated over batches of resources or events. [`crate::Engine`] runs one
//! directly ([`crate::Isolation::InProcess`]) or in each worker process (`src/worker/`).
//!
//! A batch's JSON text is decoded into Python objects by `src/decode.rs` (large nested
//! objects lazily; Python's `json` for anything outside its fast path), every applicable
//! detection runs on each item under one GIL acquisition, and results come back as
//! compact Python lists read while the GIL is held (policies here, rules in
//! `src/outcome.rs`).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use caracal_core::ComplianceStatus;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyList, PyString};
use tracing::{debug, warn};

use crate::decode;
use crate::engine::{EngineOptions, PolicyVerdict, RuleOutcome};
use crate::error::Error;
use crate::interp::{self, Busy};
use crate::kv::{KvStore, PyKv};
use crate::outcome;
use crate::pack::{DetectionKind, DetectionSpec, InvalidSpec, Pack};
use crate::posture::{PostureLookup, PyPosture};

/// A detection a batch runs no more, from one of its items on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Skip {
    /// Policy or rule.
    pub(crate) kind: DetectionKind,
    /// Index among the engine's policies or rules.
    pub(crate) detection: usize,
    /// What `DetectionSkipped` says.
    pub(crate) message: String,
    /// The first item (position in the batch) it is skipped on.
    pub(crate) from_item: usize,
}

/// What [`Local::new`] is compiling, for a supervisor that must name the culprit when
/// the process dies or hangs there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loading {
    /// The data model at this index of [`Pack::data_models`].
    DataModel(usize),
    /// The detection at this index of [`Pack::detections`].
    Detection(usize),
    /// Every global at once ([`EngineOptions::import_globals`]).
    Globals,
}

/// A pack compiled into this process's interpreter.
pub(crate) struct Local {
    py_engine: Py<PyAny>,
    pub(crate) policies: Vec<Arc<DetectionSpec>>,
    pub(crate) rules: Vec<Arc<DetectionSpec>>,
    /// Index in [`Pack::detections`] of each of `policies`.
    pub(crate) policy_positions: Vec<usize>,
    /// Index in [`Pack::detections`] of each of `rules`.
    pub(crate) rule_positions: Vec<usize>,
    pub(crate) invalid: Vec<InvalidSpec>,
    time_limit: f64,
}

impl Local {
    /// Compiles every detection, global and data model of `pack`, telling `loading`
    /// what it starts on.
    ///
    /// A detection whose Python fails to compile or import (syntax error, missing
    /// module, runaway module code) is left out and listed in `invalid`; so
    /// is a global that fails, with [`EngineOptions::import_globals`].
    pub(crate) fn new(
        pack: &Pack,
        options: &EngineOptions,
        loading: &mut dyn FnMut(Loading),
    ) -> Result<Self, Error> {
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
            let models = pack.data_models.iter().enumerate();
            for (position, model) in models.filter(|(_, m)| m.enabled || options.include_disabled) {
                loading(Loading::DataModel(position));
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
            let (mut policy_positions, mut rule_positions) = (Vec::new(), Vec::new());
            let detections = pack.detections.iter().enumerate();
            for (position, det) in detections.filter(|(_, d)| d.enabled || options.include_disabled)
            {
                loading(Loading::Detection(position));
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
                        DetectionKind::Policy => {
                            policies.push(Arc::new(det.clone()));
                            policy_positions.push(position);
                        }
                        DetectionKind::Rule => {
                            rules.push(Arc::new(det.clone()));
                            rule_positions.push(position);
                        }
                    },
                    Err(err) => {
                        let message = interp::describe(py, &err);
                        debug!(id = %det.id, %message, "Detection does not compile.");
                        invalid.push(InvalidSpec { path: det.python_path.clone(), message });
                    }
                }
            }
            if options.import_globals {
                loading(Loading::Globals);
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
            Ok(Self {
                py_engine: engine.unbind(),
                policies,
                rules,
                policy_positions,
                rule_positions,
                invalid,
                time_limit,
            })
        })
    }

    /// Backs `panther_detection_helpers.caching` with `store` (default: an in-process
    /// map that lives as long as the process). Applies to every engine in the process.
    pub(crate) fn set_kv_store(&self, store: Arc<dyn KvStore>) -> Result<(), Error> {
        Python::attach(|py| {
            let rt = interp::runtime(py)?;
            let bridge = Py::new(py, PyKv { store }).map_err(Error::python)?;
            rt.call_method1("set_kv", (bridge,)).map_err(Error::python)?;
            Ok(())
        })
    }

    /// Answers `caracal_posture` lookups (`resource_lookup`, `compliance_status`) from
    /// `lookup`; `None` detaches it. Applies to every engine in the process.
    pub(crate) fn set_posture(&self, lookup: Option<Arc<dyn PostureLookup>>) -> Result<(), Error> {
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

    /// Evaluates every applicable policy (by `ResourceTypes`) on every resource of the
    /// JSON array `json_array`.
    pub(crate) fn evaluate_resources_json(
        &self,
        json_array: &str,
    ) -> Result<Vec<PolicyVerdict>, Error> {
        self.call_batch("eval_policies", decode::Items::Resources, json_array, read_verdicts)
    }

    /// Runs the rules registered for each event's `p_log_type` over the JSON array
    /// `json_array`: the matches and the errors.
    pub(crate) fn evaluate_events_json(&self, json_array: &str) -> Result<Vec<RuleOutcome>, Error> {
        self.call_batch("eval_rules", decode::Items::Events, json_array, outcome::read_outcomes)
    }

    /// The plain-CPython reference for benchmarks: `json_array`'s items converted once,
    /// up front, so that [`Baseline::run`] only calls the same detections on them.
    pub(crate) fn baseline(
        &self,
        kind: DetectionKind,
        json_array: &str,
    ) -> Result<Baseline, Error> {
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

    /// Makes the next batches skip some detections (they raise `DetectionSkipped:
    /// message` instead, from an item on) and, when `precise`, publish the index of each
    /// detection before its call.
    pub(crate) fn configure(&self, skipped: &[Skip], precise: bool) -> Result<(), Error> {
        Python::attach(|py| {
            let skipped: Vec<(&str, usize, &str, usize)> = skipped
                .iter()
                .map(|s| (s.kind.as_str(), s.detection, s.message.as_str(), s.from_item))
                .collect();
            self.py_engine
                .call_method1(py, "configure", (skipped, precise))
                .map_err(|e| Error::Python(interp::describe(py, &e)))?;
            Ok(())
        })
    }

    /// Calls a batch method of the runtime's engine with the decoded batch (or its text,
    /// outside the decoder's fast path) and reads the result while holding the GIL.
    fn call_batch<T>(
        &self,
        method: &str,
        items: decode::Items,
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
                let batch =
                    match decode::batch(py, json_array, &types, items).map_err(Error::python)? {
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

/// Pre-built inputs and the detections to call on them; see [`crate::Engine::baseline`].
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
