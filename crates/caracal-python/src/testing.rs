//! The offline test runner behind `caracal test`: loads packs, runs every embedded test
//! (with Mocks) and reports per detection, as panther-analysis-tool users expect.
//!
//! [`run`] builds a [`TestReport`]; [`print_text`] writes the human report and
//! [`TestReport::exit_code`] says how the process should end.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;

use crate::engine::{Engine, EngineOptions};
use crate::error::Error;
use crate::pack::{self, DetectionKind, DetectionSpec, InvalidSpec, LoadOptions};
use crate::worker::Isolation;

/// What to test and how.
#[derive(Debug, Clone)]
pub struct TestOptions {
    /// Only detections whose spec matches every filter (see [`Filter`]).
    pub filters: Vec<Filter>,
    /// A detection with fewer tests fails; from 2 on it also needs a test of each outcome.
    pub minimum_tests: usize,
    /// Mark specs with unknown keys invalid (by default they load with a warning).
    pub strict_keys: bool,
    /// Leave out detections with `Enabled: false`.
    pub skip_disabled: bool,
    /// Per-call time limit for detection functions.
    pub time_limit: Duration,
    /// Extra `sys.path` folders (a virtualenv's `site-packages`).
    pub python_paths: Vec<PathBuf>,
    /// Only the detections these packs name (`PackID`s); empty: every detection.
    pub packs: Vec<String>,
    /// Where the detections run (default: worker processes when this program can start
    /// them, see [`Isolation::detect`]). In workers, each test runs on its own: a test
    /// whose detection hangs in C or ends its process fails with the reason.
    pub isolation: Isolation,
    /// A worker process's address space limit (`RLIMIT_AS`), bytes.
    pub memory_limit: u64,
}

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            filters: Vec::new(),
            minimum_tests: 0,
            strict_keys: false,
            skip_disabled: false,
            time_limit: Duration::from_secs(5),
            python_paths: Vec::new(),
            packs: Vec::new(),
            isolation: Isolation::detect(),
            memory_limit: EngineOptions::default().memory_limit,
        }
    }
}

/// `KEY=VALUE[,VALUE...]`: the spec's `KEY` equals one of the values (case-insensitive);
/// for a list-valued key (`LogTypes`, `Tags`, `ResourceTypes`) any element may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The spec key, e.g. `Severity`.
    pub key: String,
    /// Accepted values.
    pub values: Vec<String>,
}

impl std::str::FromStr for Filter {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let (key, values) = s.split_once('=').ok_or_else(|| Error::Filter(s.to_owned()))?;
        if key.trim().is_empty() || values.trim().is_empty() {
            return Err(Error::Filter(s.to_owned()));
        }
        Ok(Self {
            key: key.trim().to_owned(),
            values: values.split(',').map(|v| v.trim().to_owned()).collect(),
        })
    }
}

impl Filter {
    fn matches(&self, det: &DetectionSpec) -> bool {
        let eq = |v: &Value| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            self.values.iter().any(|want| want.eq_ignore_ascii_case(&text))
        };
        match det.raw.get(&self.key) {
            Some(Value::Array(items)) => items.iter().any(eq),
            Some(v) => eq(v),
            None => false,
        }
    }
}

/// The outcome of one embedded test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// The test's `Name`.
    pub name: String,
    /// True when the result equals `ExpectedResult` and nothing raised.
    pub passed: bool,
    /// `ExpectedResult`.
    #[serde(default)]
    pub expected: bool,
    /// What the main function returned, when it returned a bool.
    pub actual: Option<bool>,
    /// Functions that raised or returned a bad value: `[function, "Type: message"]`.
    pub errors: Vec<(String, String)>,
    /// What each function gave, as panther-analysis-tool prints it (#15.9): the main
    /// function (`rule` / `policy`: `true` / `false`), then for an alert `title`,
    /// `dedup` (with its fallbacks), `alertContext` (JSON), `description`,
    /// `reference`, `severity`, `runbook`, those defined (for a `CreateAlert: false`
    /// rule only the alert context).
    #[serde(default)]
    pub outputs: Vec<(String, String)>,
}

/// One detection's tests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectionReport {
    /// `PolicyID` or `RuleID`.
    pub id: String,
    /// Policy or rule.
    pub kind: DetectionKind,
    /// The spec file.
    pub path: PathBuf,
    /// True when every test passed and the coverage check held.
    pub passed: bool,
    /// Per-test outcomes, in spec order.
    pub tests: Vec<TestResult>,
    /// Detection-level problems (too few tests).
    pub problems: Vec<String>,
}

/// Everything one `caracal test` run found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TestReport {
    /// The roots tested.
    pub paths: Vec<PathBuf>,
    /// Tested detections, in path order.
    pub detections: Vec<DetectionReport>,
    /// Specs that could not be loaded or compiled.
    pub invalid: Vec<InvalidSpec>,
    /// Specs of kinds not run yet, by `AnalysisType`.
    pub unsupported: BTreeMap<String, usize>,
    /// Specs that loaded with a warning (an unknown key).
    pub warnings: Vec<InvalidSpec>,
    /// Scheduled and saved queries whose SQL and schedule were validated.
    pub queries_validated: usize,
    /// Specs validated but not run, by `AnalysisType` (correlation rules, lookup tables).
    pub validated_only: BTreeMap<String, usize>,
    /// Detections left out by filters (and `--skip-disabled`).
    pub filtered_out: usize,
    /// Detections whose tests all passed.
    pub passed: usize,
    /// Detections with a failing test.
    pub failed: usize,
    /// Test cases run.
    pub test_cases: usize,
    /// Wall time of the whole run, in milliseconds.
    pub elapsed_ms: u64,
}

impl TestReport {
    /// 0 when everything passed and every spec was valid, else 1.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.failed > 0 || !self.invalid.is_empty())
    }
}

/// Loads `paths`, compiles the detections and runs their tests.
pub fn run(paths: &[PathBuf], options: &TestOptions) -> Result<TestReport, Error> {
    let started = Instant::now();
    let load_options = LoadOptions { strict_keys: options.strict_keys, keep_test_order: true };
    let loaded = pack::load(paths, &load_options)?;
    let mut pack = loaded;
    let before = pack.detections.len();
    pack.select(&options.packs)?;
    pack.detections.retain(|d| {
        (d.enabled || !options.skip_disabled) && options.filters.iter().all(|f| f.matches(d))
    });
    let filtered_out = before - pack.detections.len();
    let engine = Engine::new(
        &pack,
        &EngineOptions {
            time_limit: options.time_limit,
            python_paths: options.python_paths.clone(),
            include_disabled: true,
            import_globals: true,
            isolation: options.isolation.clone(),
            memory_limit: options.memory_limit,
            ..EngineOptions::default()
        },
    )?;
    let mut report = TestReport {
        paths: paths.to_vec(),
        invalid: pack.invalid.clone(),
        unsupported: pack.unsupported.clone(),
        warnings: pack.warnings.clone(),
        queries_validated: pack.queries.len(),
        validated_only: pack.validated_only.clone(),
        filtered_out,
        ..TestReport::default()
    };
    report.invalid.extend(engine.invalid().iter().cloned());
    let compiled = engine.policies().iter().enumerate().chain(engine.rules().iter().enumerate());
    for (index, det) in compiled {
        // Each test as written, keys in the YAML's order when known.
        let mut items = Vec::with_capacity(det.tests.len());
        for t in &det.tests {
            items.push(match &t.ordered {
                Some(text) => text.clone(),
                None => serde_json::to_string(&t.raw).map_err(Error::python)?,
            });
        }
        let tests_json = format!("[{}]", items.join(","));
        let out = engine.run_tests_json(det.kind, index, &tests_json)?;
        let mut tests: Vec<TestResult> = serde_json::from_str(&out)
            .map_err(|e| Error::Python(format!("cannot decode test results of {}: {e}", det.id)))?;
        // A `CreateAlert: false` rule makes signals, not alerts: like the reference
        // runner, show only its result and alert context.
        let signals_only =
            det.raw.get("CreateAlert").and_then(serde_json::Value::as_bool) == Some(false);
        for (result, spec) in tests.iter_mut().zip(&det.tests) {
            result.expected = spec.expected;
            if signals_only {
                result.outputs.retain(|(function, _)| {
                    function == det.kind.as_str() || function == "alertContext"
                });
            }
        }
        let problems = coverage_problems(det, options.minimum_tests);
        let passed = problems.is_empty() && tests.iter().all(|t| t.passed);
        report.test_cases += tests.len();
        if passed {
            report.passed += 1;
        } else {
            report.failed += 1;
        }
        report.detections.push(DetectionReport {
            id: det.id.clone(),
            kind: det.kind,
            path: det.spec_path.clone(),
            passed,
            tests,
            problems,
        });
    }
    report.detections.sort_by(|a, b| a.path.cmp(&b.path));
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    info!(
        passed = report.passed,
        failed = report.failed,
        invalid = report.invalid.len(),
        tests = report.test_cases,
        "Tests done."
    );
    Ok(report)
}

fn coverage_problems(det: &DetectionSpec, minimum: usize) -> Vec<String> {
    let mut problems = Vec::new();
    if det.tests.len() < minimum {
        problems.push(format!(
            "insufficient test coverage: {} test(s), at least {minimum} required",
            det.tests.len()
        ));
    }
    if minimum >= 2 {
        let has = |outcome: bool| det.tests.iter().any(|t| t.expected == outcome);
        if !has(true) || !has(false) {
            problems.push(
                "insufficient test coverage: needs a test of each outcome (true and false)"
                    .to_owned(),
            );
        }
    }
    problems
}

/// Writes the human report: per detection `[PASS]` / `[FAIL]` lines, failing functions
/// with their errors, invalid specs, then the summary.
pub fn print_text(
    report: &TestReport,
    show_failures_only: bool,
    out: &mut impl Write,
) -> io::Result<()> {
    for det in &report.detections {
        if show_failures_only && det.passed {
            continue;
        }
        writeln!(out, "{}", det.id)?;
        for test in &det.tests {
            if show_failures_only && test.passed {
                continue;
            }
            let mark = if test.passed { "PASS" } else { "FAIL" };
            writeln!(out, "\t[{mark}] {}", test.name)?;
            for (function, value) in &test.outputs {
                let wrong = function == det.kind.as_str() && test.actual != Some(test.expected);
                let mark = if wrong { "FAIL" } else { "PASS" };
                writeln!(out, "\t\t[{mark}] [{function}] {value}")?;
            }
            // As panther-analysis-tool: a function that raised is a FAIL line with its
            // error; a wrong result is the FAIL line above.
            for (function, message) in &test.errors {
                writeln!(out, "\t\t[FAIL] [{function}] {message}")?;
            }
        }
        for problem in &det.problems {
            writeln!(out, "\t[FAIL] {problem}")?;
        }
        writeln!(out)?;
    }
    if !report.warnings.is_empty() {
        writeln!(out, "Warnings:")?;
        for warning in &report.warnings {
            writeln!(out, "\t[WARN] {}: {}", warning.path.display(), warning.message)?;
        }
        writeln!(out)?;
    }
    if !report.invalid.is_empty() {
        writeln!(out, "Invalid specs:")?;
        for bad in &report.invalid {
            writeln!(out, "\t[INVALID] {}: {}", bad.path.display(), bad.message)?;
        }
        writeln!(out)?;
    }
    writeln!(out, "--------------------------")?;
    writeln!(out, "Test Summary")?;
    let paths: Vec<String> = report.paths.iter().map(|p| p.display().to_string()).collect();
    writeln!(out, "\tPath: {}", paths.join(", "))?;
    writeln!(out, "\tPassed: {}", report.passed)?;
    writeln!(out, "\tFailed: {}", report.failed)?;
    writeln!(out, "\tInvalid: {}", report.invalid.len())?;
    writeln!(out, "\tTest cases: {} in {} ms", report.test_cases, report.elapsed_ms)?;
    if report.filtered_out > 0 {
        writeln!(out, "\tFiltered out: {}", report.filtered_out)?;
    }
    if report.queries_validated > 0 {
        writeln!(out, "\tQueries validated (not run): {}", report.queries_validated)?;
    }
    for (kind, count) in &report.validated_only {
        writeln!(out, "\tValidated, not run ({kind}): {count}")?;
    }
    for (kind, count) in &report.unsupported {
        writeln!(out, "\tSkipped (unsupported kind {kind}): {count}")?;
    }
    if report.failed > 0 {
        writeln!(out)?;
        writeln!(out, "Failed detections:")?;
        for det in report.detections.iter().filter(|d| !d.passed) {
            writeln!(out, "\t{}: {}", det.id, det.path.display())?;
        }
    }
    Ok(())
}
