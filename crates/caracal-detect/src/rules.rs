//! Rule packs compiled once: the engine plus what the alert logic needs of each spec
//! (`DedupPeriodMinutes`, `Threshold`, `CreateAlert`, `OutputIds`, texts).

use std::path::PathBuf;
use std::time::Duration;

use caracal_core::Severity;
use caracal_core::config::RulesConfig;
use caracal_python::pack::{DetectionKind, DetectionSpec, InvalidSpec, QuerySpec};
use caracal_python::{Engine, EngineOptions, LoadOptions};
use serde_json::Value;

use crate::error::{Error, Result};

/// Which rules to run: pack folders, a virtualenv for their imports, a pack selection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RuleSource {
    /// Pack folders.
    pub paths: Vec<PathBuf>,
    /// A virtualenv for third-party imports.
    pub venv: Option<PathBuf>,
    /// Only the rules these packs (PackIDs) name; empty: all.
    pub packs: Vec<String>,
}

impl RuleSource {
    /// The folders `paths` with the configuration's virtualenv and pack selection.
    pub fn configured(paths: Vec<PathBuf>, config: &RulesConfig) -> Self {
        Self { paths, venv: config.venv.clone(), packs: config.packs.clone() }
    }
}

/// What the alert logic reads from a rule's spec.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMeta {
    /// `RuleID`.
    pub id: String,
    /// `Severity`.
    pub severity: Severity,
    /// `DedupPeriodMinutes` (default 60).
    pub dedup_period: Duration,
    /// `Threshold` (default 1).
    pub threshold: u64,
    /// `CreateAlert` (default true); false stores matches as signals.
    pub create_alert: bool,
    /// `OutputIds`: destinations this rule's alerts go to instead of the defaults.
    pub output_ids: Vec<String>,
    /// `Description`, `Reference`, `Runbook`.
    pub description: Option<String>,
    /// `Reference`.
    pub reference: Option<String>,
    /// `Runbook`.
    pub runbook: Option<String>,
}

impl RuleMeta {
    fn from_spec(spec: &DetectionSpec) -> Self {
        let raw = &spec.raw;
        let text = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_owned);
        let minutes = raw.get("DedupPeriodMinutes").and_then(Value::as_u64).unwrap_or(60);
        Self {
            id: spec.id.clone(),
            severity: spec.severity,
            dedup_period: Duration::from_secs(minutes.max(1) * 60),
            threshold: raw.get("Threshold").and_then(Value::as_u64).unwrap_or(1).max(1),
            create_alert: raw.get("CreateAlert").and_then(Value::as_bool).unwrap_or(true),
            output_ids: output_ids(raw),
            description: text("Description"),
            reference: text("Reference"),
            runbook: text("Runbook"),
        }
    }
}

/// A spec's `OutputIds`: the destinations its alerts go to instead of the defaults.
pub(crate) fn output_ids(raw: &serde_json::Map<String, Value>) -> Vec<String> {
    raw.get("OutputIds")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// A rule pack compiled into the interpreter, with each rule's [`RuleMeta`] at the
/// engine's rule index.
pub struct Rules {
    pub(crate) engine: Engine,
    pub(crate) meta: Vec<RuleMeta>,
    invalid: Vec<InvalidSpec>,
    queries: Vec<QuerySpec>,
}

/// Which rules of a pack a [`Rules`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleSet {
    /// `rule`: run on log events by `LogTypes`.
    Streaming,
    /// `scheduled_rule`: run on the rows of their `ScheduledQueries`.
    Scheduled,
}

/// The `p_log_type` a row of the scheduled query `query` carries to the scheduled rules
/// that name it (the row's own `p_log_type`, if it selected one, is replaced).
pub fn scheduled_log_type(query: &str) -> String {
    format!("ScheduledQuery.{query}")
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules").field("rules", &self.meta.len()).finish_non_exhaustive()
    }
}

impl Rules {
    /// Loads and compiles the enabled streaming rules of `source` (policies and
    /// scheduled rules in the same folders are left to the scanner and to
    /// [`Rules::compile_scheduled`]). Blocking: holds the GIL while compiling.
    pub fn compile(source: &RuleSource) -> Result<Self> {
        Self::compile_set(source, RuleSet::Streaming)
    }

    /// Loads and compiles the enabled scheduled rules of `source`, each registered for
    /// the rows of the queries it names: a row reaches them with the `p_log_type` of
    /// [`scheduled_log_type`]. Blocking: holds the GIL while compiling.
    pub fn compile_scheduled(source: &RuleSource) -> Result<Self> {
        Self::compile_set(source, RuleSet::Scheduled)
    }

    fn compile_set(source: &RuleSource, set: RuleSet) -> Result<Self> {
        let shown: Vec<String> = source.paths.iter().map(|p| p.display().to_string()).collect();
        let mut pack = caracal_python::pack::load(&source.paths, &LoadOptions::default())
            .map_err(Error::python(format!("loading rules from {}", shown.join(", "))))?;
        pack.select(&source.packs).map_err(Error::python("selecting rule packs"))?;
        // Deprecated or experimental rules stay out of production runs, as in Panther.
        pack.detections.retain(|d| {
            let scheduled =
                d.raw.get("AnalysisType").and_then(Value::as_str) == Some("scheduled_rule");
            d.kind == DetectionKind::Rule
                && scheduled == (set == RuleSet::Scheduled)
                && !matches!(
                    d.raw.get("Status").and_then(Value::as_str),
                    Some("deprecated" | "DEPRECATED" | "Deprecated")
                )
        });
        if set == RuleSet::Scheduled {
            for d in &mut pack.detections {
                d.log_types = d.scheduled_queries.iter().map(|q| scheduled_log_type(q)).collect();
            }
        }
        let mut options = EngineOptions::default();
        if let Some(venv) = &source.venv {
            let site = caracal_python::venv::site_packages(venv)
                .map_err(Error::python(format!("rule virtualenv {}", venv.display())))?;
            options.python_paths.push(site);
        }
        let engine = Engine::new(&pack, &options).map_err(Error::python("compiling rules"))?;
        let meta = engine.rules().iter().map(|spec| RuleMeta::from_spec(spec)).collect();
        let invalid = engine.invalid().to_vec();
        Ok(Self { engine, meta, invalid, queries: pack.queries })
    }

    /// The compiled rules' specs, in engine order.
    pub fn specs(&self) -> &[std::sync::Arc<DetectionSpec>] {
        self.engine.rules()
    }

    /// The pack's scheduled and saved queries (as loaded, enabled or not).
    pub fn queries(&self) -> &[QuerySpec] {
        &self.queries
    }

    /// The compiled rules' metadata, in engine order.
    pub fn meta(&self) -> &[RuleMeta] {
        &self.meta
    }

    /// Specs that did not load or compile, with the reason.
    pub fn invalid(&self) -> &[InvalidSpec] {
        &self.invalid
    }
}
