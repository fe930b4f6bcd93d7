//! The pack loader: walks folder trees, parses every `*.yml` / `*.yaml` spec, validates
//! its keys strictly and reads the Python file it names.
//!
//! Loading never stops at a bad spec: each one becomes an [`InvalidSpec`] naming its file,
//! and kinds caracal does not run yet are counted in [`Pack::unsupported`].

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use caracal_core::Severity;
use serde_json::{Map, Value};
use tracing::debug;

use crate::error::Error;

/// How strictly specs are read.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Mark a spec with an unknown top-level, test or mock key invalid. Off by default:
    /// an unknown key is a [`Pack::warnings`] entry and the spec loads (#15.5), so a
    /// pack written for a newer panther-analysis-tool still runs.
    pub strict_keys: bool,
    /// Keep each test's JSON in the key order its YAML wrote ([`TestSpec::ordered`]),
    /// which reads the spec a second time; only `caracal test` prints what it changes.
    pub keep_test_order: bool,
}

/// Whether a detection checks resources or log events.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DetectionKind {
    /// `AnalysisType: policy`: `policy(resource)`, True means compliant.
    Policy,
    /// `AnalysisType: rule`: `rule(event)`, True means alert.
    Rule,
}

impl DetectionKind {
    /// `policy` or `rule`, also the name of the detection's main function.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Policy => "policy",
            Self::Rule => "rule",
        }
    }
}

/// One policy or rule spec with its Python source.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DetectionSpec {
    /// Policy or rule.
    pub kind: DetectionKind,
    /// `PolicyID` or `RuleID`.
    pub id: String,
    /// The YAML file.
    pub spec_path: PathBuf,
    /// The Python file named by `Filename`.
    pub python_path: PathBuf,
    /// The Python source.
    pub source: String,
    /// `Enabled`.
    pub enabled: bool,
    /// `Severity`.
    pub severity: Severity,
    /// `DisplayName`, if any.
    pub display_name: Option<String>,
    /// `ResourceTypes` (policies; empty means every type).
    pub resource_types: Vec<String>,
    /// `LogTypes` (rules).
    pub log_types: Vec<String>,
    /// `ScheduledQueries` (scheduled rules): the `QueryName`s whose rows they run on.
    pub scheduled_queries: Vec<String>,
    /// `Suppressions`: resource-id globs never reported (policies).
    pub suppressions: Vec<String>,
    /// `Tests`, each as written in the spec.
    pub tests: Vec<TestSpec>,
    /// The whole spec, for `--filter KEY=VALUE`.
    pub raw: Map<String, Value>,
}

/// One embedded unit test.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TestSpec {
    /// `Name`.
    pub name: String,
    /// `ExpectedResult`.
    pub expected: bool,
    /// The test object as written (`Log` / `Resource` / `Mocks`).
    pub raw: Value,
    /// `raw` as JSON text with the keys in the order the YAML wrote them (`raw` sorts
    /// them): what the detection sees, so alert contexts print as the reference's do.
    /// Set with [`LoadOptions::keep_test_order`].
    #[serde(default)]
    pub ordered: Option<String>,
}

/// A helper module importable under its `GlobalID`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct GlobalSpec {
    /// `GlobalID`, the module name.
    pub id: String,
    /// The Python file.
    pub python_path: PathBuf,
    /// The Python source.
    pub source: String,
}

/// A data model: standard field names for some log types.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DataModelSpec {
    /// `DataModelID`.
    pub id: String,
    /// The YAML file.
    pub spec_path: PathBuf,
    /// `Enabled`.
    pub enabled: bool,
    /// `LogTypes`.
    pub log_types: Vec<String>,
    /// `Mappings`: `[{Name, Path | Method}]`.
    pub mappings: Value,
    /// The Python file and its source, when the model has methods.
    pub python: Option<(PathBuf, String)>,
}

/// A named set of detections, globals and data models.
#[derive(Debug, Clone)]
pub struct PackSpec {
    /// `PackID`.
    pub id: String,
    /// `PackDefinition.IDs`.
    pub ids: Vec<String>,
}

/// A spec that could not be loaded, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InvalidSpec {
    /// The YAML (or Python) file at fault.
    pub path: PathBuf,
    /// What is wrong, naming the key or value.
    pub message: String,
}

/// Everything loaded from one or more folder trees.
#[derive(Debug, Clone, Default)]
pub struct Pack {
    /// Policies and rules, in path order.
    pub detections: Vec<DetectionSpec>,
    /// Global helper modules.
    pub globals: Vec<GlobalSpec>,
    /// Data models.
    pub data_models: Vec<DataModelSpec>,
    /// Pack definitions.
    pub packs: Vec<PackSpec>,
    /// Specs that failed to load.
    pub invalid: Vec<InvalidSpec>,
    /// Specs of kinds caracal does not run yet, counted by `AnalysisType`.
    pub unsupported: BTreeMap<String, usize>,
    /// Specs that loaded with something to say (an unknown key), naming file and key.
    pub warnings: Vec<InvalidSpec>,
    /// Scheduled and saved queries, validated (run later, by the lake's SQL engine).
    pub queries: Vec<QuerySpec>,
    /// Specs of kinds validated but not run by caracal (`correlation_rule`,
    /// `lookup_table`), counted by `AnalysisType`.
    pub validated_only: BTreeMap<String, usize>,
}

/// A `scheduled_query` or `saved_query`: SQL over the data lake, with a schedule.
#[derive(Debug, Clone)]
pub struct QuerySpec {
    /// `QueryName`.
    pub name: String,
    /// `scheduled_query` or `saved_query`.
    pub kind: String,
    /// The YAML file.
    pub spec_path: PathBuf,
    /// The SQL (`Query`, `AthenaQuery`, `SnowflakeQuery` or `PantherFlowQuery`).
    pub sql: String,
    /// `Schedule` of a scheduled query.
    pub schedule: Option<Schedule>,
    /// `Enabled` of a scheduled query (saved queries: true).
    pub enabled: bool,
}

/// When a scheduled query runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// `CronExpression` (five fields), with `TimeoutMinutes`.
    Cron {
        /// The expression as written.
        expression: String,
        /// `TimeoutMinutes`.
        timeout_minutes: u64,
    },
    /// `RateMinutes` (more than 1, at least `TimeoutMinutes`).
    Rate {
        /// `RateMinutes`.
        minutes: u64,
        /// `TimeoutMinutes`.
        timeout_minutes: u64,
    },
}

impl Pack {
    /// Keeps only the detections that the packs `pack_ids` (their `PackDefinition.IDs`)
    /// name; nothing changes when `pack_ids` is empty. Globals and data models stay, as
    /// the kept detections may import them. A pack id not defined is an error.
    pub fn select(&mut self, pack_ids: &[String]) -> Result<(), Error> {
        if pack_ids.is_empty() {
            return Ok(());
        }
        let mut keep = std::collections::HashSet::new();
        for id in pack_ids {
            let Some(spec) = self.packs.iter().find(|p| &p.id == id) else {
                let mut defined: Vec<&str> = self.packs.iter().map(|p| p.id.as_str()).collect();
                defined.sort_unstable();
                let defined = if defined.is_empty() { "none".into() } else { defined.join(", ") };
                return Err(Error::UnknownPack { id: id.clone(), defined });
            };
            keep.extend(spec.ids.iter().map(String::as_str));
        }
        self.detections.retain(|d| keep.contains(d.id.as_str()));
        Ok(())
    }
}

const POLICY_KEYS: &[&str] = &[
    "AnalysisType",
    "PolicyID",
    "Enabled",
    "Filename",
    "Severity",
    "ResourceTypes",
    "DisplayName",
    "Description",
    "Reference",
    "Runbook",
    "Tags",
    "Reports",
    "Suppressions",
    "AutoRemediationID",
    "AutoRemediationParameters",
    "ActionDelaySeconds",
    "OutputIds",
    "Tests",
    "Status",
    "OnlyUseBaseRiskScore",
];
const RULE_KEYS: &[&str] = &[
    "AnalysisType",
    "RuleID",
    "Enabled",
    "Filename",
    "LogTypes",
    "Severity",
    "DisplayName",
    "Description",
    "Reference",
    "Runbook",
    "Tags",
    "Reports",
    "DedupPeriodMinutes",
    "Threshold",
    "SummaryAttributes",
    "OutputIds",
    "CreateAlert",
    "Status",
    "Tests",
    "InlineFilters",
    "OnlyUseBaseRiskScore",
    "ScheduledQueries",
    "DynamicSeverities",
    "AlertTitle",
    "AlertContext",
    "GroupBy",
];
const GLOBAL_KEYS: &[&str] = &["AnalysisType", "GlobalID", "Filename", "Description", "Tags"];
const DATAMODEL_KEYS: &[&str] = &[
    "AnalysisType",
    "DataModelID",
    "DisplayName",
    "Description",
    "Enabled",
    "Filename",
    "LogTypes",
    "Mappings",
    "Tags",
];
const PACK_KEYS: &[&str] =
    &["AnalysisType", "PackID", "PackDefinition", "DisplayName", "Description", "PackVersion"];
/// `LogType` (rules) and `ResourceType` (policies) are accepted in tests and unused, as
/// panther-analysis-tool keeps them for older packs.
const TEST_KEYS: &[&str] =
    &["Name", "ExpectedResult", "Log", "Resource", "Mocks", "LogType", "ResourceType"];
const QUERY_KEYS: &[&str] = &[
    "AnalysisType",
    "QueryName",
    "Enabled",
    "Query",
    "AthenaQuery",
    "SnowflakeQuery",
    "PantherFlowQuery",
    "Schedule",
    "Description",
    "Tags",
    "Lookback",
    "LookbackWindowSeconds",
];
const QUERY_SQL_KEYS: &[&str] = &["Query", "AthenaQuery", "SnowflakeQuery", "PantherFlowQuery"];
const CORRELATION_KEYS: &[&str] = &[
    "AnalysisType",
    "RuleID",
    "Enabled",
    "Detection",
    "Severity",
    "Description",
    "DisplayName",
    "OnlyUseBaseRiskScore",
    "OutputIds",
    "Reference",
    "Runbook",
    "SummaryAttributes",
    "Tags",
    "Reports",
    "CreateAlert",
    "Tests",
];
const LOOKUP_TABLE_KEYS: &[&str] = &[
    "AnalysisType",
    "LookupName",
    "Enabled",
    "Filename",
    "Refresh",
    "Schema",
    "LogTypeMap",
    "Description",
    "Reference",
];
const MOCK_KEYS: &[&str] = &["objectName", "returnValue"];

/// Loads every spec under `roots` (folders or single files).
///
/// Fails only when a root itself cannot be read; bad specs land in [`Pack::invalid`].
pub fn load(roots: &[PathBuf], options: &LoadOptions) -> Result<Pack, Error> {
    let mut files = Vec::new();
    for root in roots {
        collect_specs(root, &mut files)?;
    }
    let mut pack = Pack::default();
    for path in files {
        if let Err(message) = load_spec(&path, options, &mut pack) {
            debug!(path = %path.display(), %message, "Invalid spec.");
            pack.invalid.push(InvalidSpec { path, message });
        }
    }
    reject_duplicates(&mut pack);
    Ok(pack)
}

fn collect_specs(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    let meta = fs::metadata(path).map_err(io)?;
    if meta.is_file() {
        if is_spec(path) {
            out.push(path.to_owned());
        }
        return Ok(());
    }
    let mut entries: Vec<PathBuf> =
        fs::read_dir(path).map_err(io)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for entry in entries {
        let hidden = entry.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if entry.is_dir() {
            collect_specs(&entry, out)?;
        } else if is_spec(&entry) {
            out.push(entry);
        }
    }
    Ok(())
}

fn is_spec(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
}

fn load_spec(path: &Path, options: &LoadOptions, pack: &mut Pack) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let value: Value = serde_norway::from_str(&text).map_err(|e| format!("invalid YAML: {e}"))?;
    let Value::Object(spec) = value else {
        return Err("not a YAML mapping".to_owned());
    };
    let kind = str_key(&spec, "AnalysisType")?;
    let mut warnings = Vec::new();
    match kind.as_str() {
        "policy" | "rule" | "scheduled_rule" => {
            let detection_kind =
                if kind == "policy" { DetectionKind::Policy } else { DetectionKind::Rule };
            let allowed = if kind == "policy" { POLICY_KEYS } else { RULE_KEYS };
            if detection_kind == DetectionKind::Rule
                && !spec.contains_key("Filename")
                && spec.contains_key("Detection")
            {
                // A YAML-only ("simple") detection: a later addition we do not run yet.
                *pack.unsupported.entry("simple_rule".to_owned()).or_default() += 1;
                return Ok(());
            }
            check_keys(&spec, allowed, "", options, &mut warnings)?;
            let mut det = detection(path, detection_kind, &kind, spec, options, &mut warnings)?;
            if options.keep_test_order {
                keep_test_key_order(&text, &mut det.tests);
            }
            pack.detections.push(det);
        }
        "global" => {
            check_keys(&spec, GLOBAL_KEYS, "", options, &mut warnings)?;
            let (python_path, source) = python_file(path, &spec)?;
            pack.globals.push(GlobalSpec { id: str_key(&spec, "GlobalID")?, python_path, source });
        }
        "datamodel" => {
            check_keys(&spec, DATAMODEL_KEYS, "", options, &mut warnings)?;
            let mappings = spec.get("Mappings").cloned().unwrap_or(Value::Array(Vec::new()));
            check_mappings(&mappings)?;
            let python =
                if spec.contains_key("Filename") { Some(python_file(path, &spec)?) } else { None };
            pack.data_models.push(DataModelSpec {
                id: str_key(&spec, "DataModelID")?,
                spec_path: path.to_owned(),
                enabled: bool_key(&spec, "Enabled")?,
                log_types: log_types(&spec, &mut warnings)?,
                mappings,
                python,
            });
        }
        "pack" => {
            check_keys(&spec, PACK_KEYS, "", options, &mut warnings)?;
            let ids = spec
                .get("PackDefinition")
                .and_then(|d| d.get("IDs"))
                .and_then(Value::as_array)
                .map(|ids| ids.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            pack.packs.push(PackSpec { id: str_key(&spec, "PackID")?, ids });
        }
        "scheduled_query" | "saved_query" => {
            check_keys(&spec, QUERY_KEYS, "", options, &mut warnings)?;
            pack.queries.push(query(path, &kind, &spec)?);
        }
        "correlation_rule" => {
            check_keys(&spec, CORRELATION_KEYS, "", options, &mut warnings)?;
            str_key(&spec, "RuleID")?;
            bool_key(&spec, "Enabled")?;
            severity(&spec)?;
            if !spec.get("Detection").is_some_and(Value::is_array) {
                return Err("Detection: expected a list of steps".to_owned());
            }
            *pack.validated_only.entry(kind).or_default() += 1;
        }
        "lookup_table" => {
            check_keys(&spec, LOOKUP_TABLE_KEYS, "", options, &mut warnings)?;
            str_key(&spec, "LookupName")?;
            bool_key(&spec, "Enabled")?;
            str_key(&spec, "Schema")?;
            if !spec.contains_key("Filename") && !spec.contains_key("Refresh") {
                return Err("needs Filename or Refresh".to_owned());
            }
            if !spec
                .get("LogTypeMap")
                .and_then(|m| m.get("PrimaryKey"))
                .is_some_and(Value::is_string)
            {
                return Err("LogTypeMap: needs a PrimaryKey".to_owned());
            }
            *pack.validated_only.entry(kind).or_default() += 1;
        }
        other => {
            *pack.unsupported.entry(other.to_owned()).or_default() += 1;
        }
    }
    pack.warnings
        .extend(warnings.into_iter().map(|message| InvalidSpec { path: path.to_owned(), message }));
    Ok(())
}

fn severity(spec: &Map<String, Value>) -> Result<Severity, String> {
    let text = str_key(spec, "Severity")?;
    text.parse::<Severity>()
        .map_err(|_| format!("Severity {text:?} is not one of Info, Low, Medium, High, Critical"))
}

fn detection(
    path: &Path,
    kind: DetectionKind,
    analysis_type: &str,
    spec: Map<String, Value>,
    options: &LoadOptions,
    warnings: &mut Vec<String>,
) -> Result<DetectionSpec, String> {
    let id_key = match kind {
        DetectionKind::Policy => "PolicyID",
        DetectionKind::Rule => "RuleID",
    };
    let id = str_key(&spec, id_key)?;
    let enabled = bool_key(&spec, "Enabled")?;
    let severity = severity(&spec)?;
    // A scheduled rule runs on the rows of its queries instead of a log type.
    let sources = if analysis_type == "scheduled_rule" { "ScheduledQueries" } else { "LogTypes" };
    if kind == DetectionKind::Rule && !spec.contains_key(sources) {
        return Err(format!("missing required key {sources}"));
    }
    let (python_path, source) = python_file(path, &spec)?;
    let tests = match spec.get("Tests") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, t)| test_spec(i, t, options, warnings))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("Tests: expected a list".to_owned()),
    };
    Ok(DetectionSpec {
        kind,
        id,
        spec_path: path.to_owned(),
        python_path,
        source,
        enabled,
        severity,
        display_name: spec.get("DisplayName").and_then(Value::as_str).map(str::to_owned),
        resource_types: str_list(&spec, "ResourceTypes")?,
        log_types: log_types(&spec, warnings)?,
        scheduled_queries: str_list(&spec, "ScheduledQueries")?,
        suppressions: str_list(&spec, "Suppressions")?,
        tests,
        raw: spec,
    })
}

/// Sets each test's [`TestSpec::ordered`] from the spec's text, parsed again into YAML's
/// own (order-keeping) values; a test that can't be written as JSON keeps `raw` only.
fn keep_test_key_order(text: &str, tests: &mut [TestSpec]) {
    if tests.is_empty() {
        return;
    }
    let Ok(doc) = serde_norway::from_str::<serde_norway::Value>(text) else { return };
    let Some(serde_norway::Value::Sequence(items)) = doc.get("Tests") else { return };
    if items.len() != tests.len() {
        return;
    }
    for (spec, item) in tests.iter_mut().zip(items) {
        spec.ordered = serde_json::to_string(item).ok();
    }
}

fn test_spec(
    index: usize,
    test: &Value,
    options: &LoadOptions,
    warnings: &mut Vec<String>,
) -> Result<TestSpec, String> {
    let Value::Object(map) = test else {
        return Err(format!("Tests[{index}]: expected a mapping"));
    };
    let name = map
        .get("Name")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("Tests[{index}]: missing required key Name"))?
        .to_owned();
    check_keys(map, TEST_KEYS, &format!("test {name:?}: "), options, warnings)?;
    let expected = map
        .get("ExpectedResult")
        .and_then(Value::as_bool)
        .ok_or_else(|| format!("test {name:?}: ExpectedResult must be true or false"))?;
    if !map.contains_key("Log") && !map.contains_key("Resource") {
        return Err(format!("test {name:?}: needs a Log or a Resource"));
    }
    match map.get("Mocks") {
        None | Some(Value::Null) => {}
        Some(Value::Array(mocks)) => {
            for mock in mocks {
                let Some(mock) = mock.as_object() else {
                    return Err(format!("test {name:?}: each mock must be a mapping"));
                };
                if !mock.get("objectName").is_some_and(Value::is_string) {
                    return Err(format!("test {name:?}: mock without objectName"));
                }
                // As panther-analysis-tool: a mock returns a string or a bool.
                if !mock.get("returnValue").is_some_and(|v| v.is_string() || v.is_boolean()) {
                    return Err(format!(
                        "test {name:?}: mock returnValue must be a string or a bool"
                    ));
                }
                check_keys(mock, MOCK_KEYS, &format!("test {name:?}: mock: "), options, warnings)?;
            }
        }
        Some(_) => return Err(format!("test {name:?}: Mocks must be a list")),
    }
    Ok(TestSpec { name, expected, raw: test.clone(), ordered: None })
}

/// A scheduled or saved query: its SQL present and plausibly whole, its schedule sound.
fn query(path: &Path, kind: &str, spec: &Map<String, Value>) -> Result<QuerySpec, String> {
    let name = str_key(spec, "QueryName")?;
    let sql_keys: Vec<&&str> = QUERY_SQL_KEYS.iter().filter(|k| spec.contains_key(**k)).collect();
    let [sql_key] = sql_keys.as_slice() else {
        return Err(format!("needs exactly one of {}", QUERY_SQL_KEYS.join(", ")));
    };
    let sql = str_key(spec, sql_key)?;
    check_sql(&sql).map_err(|e| format!("{sql_key}: {e}"))?;
    let (schedule, enabled) = if kind == "scheduled_query" {
        let enabled = bool_key(spec, "Enabled")?;
        let Some(Value::Object(schedule)) = spec.get("Schedule") else {
            return Err("Schedule: expected a mapping with CronExpression or RateMinutes".into());
        };
        (Some(parse_schedule(schedule)?), enabled)
    } else {
        (None, true)
    };
    Ok(QuerySpec {
        name,
        kind: kind.to_owned(),
        spec_path: path.to_owned(),
        sql,
        schedule,
        enabled,
    })
}

/// What can be checked of SQL without the lake's engine: not empty, quotes closed,
/// parentheses balanced (outside quotes and comments), and a statement keyword first.
fn check_sql(sql: &str) -> Result<(), String> {
    let mut depth: i64 = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' if !chars.by_ref().any(|d| d == c) => {
                return Err(format!("unclosed {c}"));
            }
            '-' if chars.peek() == Some(&'-') => {
                chars.by_ref().find(|&d| d == '\n');
            }
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced ')'".to_owned());
                }
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unbalanced '('".to_owned());
    }
    let first = sql
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_default()
        .to_ascii_lowercase();
    const STARTS: &[&str] = &["select", "with", "show", "describe", "desc", "explain", "(", "let"];
    if !STARTS.iter().any(|s| first.starts_with(s)) && !first.contains('|') {
        return Err(format!("does not start with a query keyword (found {first:?})"));
    }
    Ok(())
}

fn parse_schedule(schedule: &Map<String, Value>) -> Result<Schedule, String> {
    let timeout_minutes = schedule
        .get("TimeoutMinutes")
        .and_then(Value::as_u64)
        .ok_or("Schedule: TimeoutMinutes must be a whole number")?;
    match (schedule.get("CronExpression"), schedule.get("RateMinutes")) {
        (Some(Value::String(expression)), None) => {
            let fields = expression.split_whitespace().count();
            if fields != 5 {
                return Err(format!(
                    "Schedule: CronExpression {expression:?} needs 5 fields, has {fields}"
                ));
            }
            Ok(Schedule::Cron { expression: expression.clone(), timeout_minutes })
        }
        (None, Some(rate)) => {
            let minutes = rate.as_u64().ok_or("Schedule: RateMinutes must be a whole number")?;
            if minutes <= 1 {
                return Err("Schedule: RateMinutes must be more than 1".to_owned());
            }
            if minutes < timeout_minutes {
                return Err("Schedule: RateMinutes must be at least TimeoutMinutes".to_owned());
            }
            Ok(Schedule::Rate { minutes, timeout_minutes })
        }
        _ => Err("Schedule: needs exactly one of CronExpression and RateMinutes".to_owned()),
    }
}

/// Unknown keys of one mapping: an error with `strict_keys`, else warnings.
fn check_keys(
    spec: &Map<String, Value>,
    allowed: &[&str],
    context: &str,
    options: &LoadOptions,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    for key in spec.keys().filter(|k| !allowed.contains(&k.as_str())) {
        if options.strict_keys {
            return Err(format!("{context}unknown key {key} (accepted without --strict-keys)"));
        }
        warnings.push(format!("{context}unknown key {key} (ignored)"));
    }
    Ok(())
}

fn check_mappings(mappings: &Value) -> Result<(), String> {
    let Value::Array(items) = mappings else {
        return Err("Mappings: expected a list".to_owned());
    };
    for item in items {
        let name = item.get("Name").and_then(Value::as_str);
        let has_target = item.get("Path").is_some_and(Value::is_string)
            || item.get("Method").is_some_and(Value::is_string);
        if name.is_none() || !has_target {
            return Err(format!("Mappings: each entry needs Name and Path or Method, got {item}"));
        }
    }
    Ok(())
}

fn python_file(spec_path: &Path, spec: &Map<String, Value>) -> Result<(PathBuf, String), String> {
    let name = str_key(spec, "Filename")?;
    let path = spec_path.parent().unwrap_or(Path::new(".")).join(&name);
    let source = fs::read_to_string(&path).map_err(|e| format!("Filename {name}: {e}"))?;
    Ok((path, source))
}

fn str_key(spec: &Map<String, Value>, key: &str) -> Result<String, String> {
    match spec.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(other) => Err(format!("{key}: expected a non-empty string, got {other}")),
        None => Err(format!("missing required key {key}")),
    }
}

fn bool_key(spec: &Map<String, Value>, key: &str) -> Result<bool, String> {
    match spec.get(key) {
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(format!("{key}: expected true or false, got {other}")),
        None => Err(format!("missing required key {key}")),
    }
}

/// `LogTypes`, a renamed type under its current name (with a warning), so a pack written
/// for the old name keeps matching.
fn log_types(spec: &Map<String, Value>, warnings: &mut Vec<String>) -> Result<Vec<String>, String> {
    let mut out = str_list(spec, "LogTypes")?;
    for name in &mut out {
        let current = caracal_core::event::current_log_type(name);
        if current != name {
            warnings.push(format!("LogTypes: {name} is now called {current}"));
            *name = current.to_owned();
        }
    }
    Ok(out)
}

fn str_list(spec: &Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    match spec.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| format!("{key}: {v} is not a string"))
            })
            .collect(),
        Some(other) => Err(format!("{key}: expected a list of strings, got {other}")),
    }
}

fn reject_duplicates(pack: &mut Pack) {
    let mut seen: BTreeMap<(DetectionKind, String), PathBuf> = BTreeMap::new();
    let mut keep = Vec::with_capacity(pack.detections.len());
    for det in pack.detections.drain(..) {
        let key = (det.kind, det.id.clone());
        if let Some(first) = seen.get(&key) {
            pack.invalid.push(InvalidSpec {
                path: det.spec_path.clone(),
                message: format!("duplicate id {} (first defined in {})", det.id, first.display()),
            });
        } else {
            seen.insert(key, det.spec_path.clone());
            keep.push(det);
        }
    }
    pack.detections = keep;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn selecting_packs_keeps_the_detections_they_name() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "p.py", "def policy(r):\n    return True\n");
        for id in ["A", "B", "C"] {
            write(
                dir.path(),
                &format!("{id}.yml"),
                &format!(
                    "AnalysisType: policy\nPolicyID: {id}\nEnabled: true\nFilename: p.py\nSeverity: Low\n"
                ),
            );
        }
        write(
            dir.path(),
            "cis.yml",
            "AnalysisType: pack\nPackID: CIS\nDisplayName: CIS\nPackDefinition:\n  IDs: [A, C, Missing]\n",
        );
        write(dir.path(), "b.yml", "AnalysisType: pack\nPackID: Bs\nPackDefinition:\n  IDs: [B]\n");
        let loaded = load(&[dir.path().to_owned()], &LoadOptions::default()).unwrap();
        assert!(loaded.invalid.is_empty(), "{:?}", loaded.invalid);
        let ids = |pack: &Pack| pack.detections.iter().map(|d| d.id.clone()).collect::<Vec<_>>();

        let mut all = loaded.clone();
        all.select(&[]).unwrap();
        assert_eq!(ids(&all), ["A", "B", "C"]);
        let mut cis = loaded.clone();
        cis.select(&["CIS".into()]).unwrap();
        assert_eq!(ids(&cis), ["A", "C"]);
        let mut both = loaded.clone();
        both.select(&["CIS".into(), "Bs".into()]).unwrap();
        assert_eq!(ids(&both), ["A", "B", "C"]);
        let err = loaded.clone().select(&["Nope".into()]).unwrap_err().to_string();
        assert!(err.contains("\"Nope\"") && err.contains("Bs, CIS"), "{err}");
    }

    #[test]
    fn unknown_key_warns_and_makes_spec_invalid_only_when_strict() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "p.py", "def policy(r):\n    return True\n");
        write(
            dir.path(),
            "p.yml",
            "AnalysisType: policy\nPolicyID: X\nEnabled: true\nFilename: p.py\nSeverity: Low\nColour: red\n",
        );
        let pack = load(&[dir.path().to_owned()], &LoadOptions::default()).unwrap();
        assert!(pack.invalid.is_empty(), "{:?}", pack.invalid);
        assert_eq!(pack.detections[0].id, "X");
        assert!(pack.warnings[0].message.contains("unknown key Colour"), "{:?}", pack.warnings);
        let strict = LoadOptions { strict_keys: true, ..LoadOptions::default() };
        let pack = load(&[dir.path().to_owned()], &strict).unwrap();
        assert_eq!(pack.invalid.len(), 1);
        assert!(pack.invalid[0].message.contains("unknown key Colour"), "{:?}", pack.invalid);
    }

    #[test]
    fn data_models_may_carry_tags_as_the_public_packs_do() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "m.yml",
            "AnalysisType: datamodel\nDataModelID: M\nEnabled: true\nLogTypes: [AWS.ALB]\nTags: [AWS]\n\
             Mappings:\n  - Name: source_ip\n    Path: clientIp\n",
        );
        let strict = LoadOptions { strict_keys: true, ..LoadOptions::default() };
        let pack = load(&[dir.path().to_owned()], &strict).unwrap();
        assert!(
            pack.invalid.is_empty() && pack.warnings.is_empty(),
            "{:?} {:?}",
            pack.invalid,
            pack.warnings
        );
    }

    #[test]
    fn renamed_log_types_load_under_their_current_name_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "r.py", "def rule(e):\n    return True\n");
        write(
            dir.path(),
            "r.yml",
            "AnalysisType: rule\nRuleID: R\nEnabled: true\nFilename: r.py\nSeverity: Low\n\
             LogTypes: [Azure.SignIn, Okta.SystemLog]\n",
        );
        let pack = load(&[dir.path().to_owned()], &LoadOptions::default()).unwrap();
        assert_eq!(pack.detections[0].log_types, ["Azure.Audit", "Okta.SystemLog"]);
        assert!(pack.warnings[0].message.contains("Azure.SignIn is now called Azure.Audit"));
    }

    #[test]
    fn unknown_kinds_are_counted_not_rejected() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "f.yml", "AnalysisType: future_kind\nID: f\n");
        let pack = load(&[dir.path().to_owned()], &LoadOptions::default()).unwrap();
        assert!(pack.invalid.is_empty());
        assert_eq!(pack.unsupported.get("future_kind"), Some(&1));
    }

    /// #15.8: scheduled rules load as rules; queries, correlation rules and lookup
    /// tables are validated, and a bad one is invalid, naming what is wrong.
    #[test]
    fn scheduled_kinds_load_and_validate() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "r.py", "def rule(e):\n    return True\n");
        write(
            dir.path(),
            "sr.yml",
            "AnalysisType: scheduled_rule\nRuleID: S\nEnabled: true\nFilename: r.py\nSeverity: Low\nScheduledQueries: [Q]\n",
        );
        let query = |name: &str, sql: &str, schedule: &str| {
            format!(
                "AnalysisType: scheduled_query\nQueryName: {name}\nEnabled: true\nQuery: \"{sql}\"\nSchedule:\n{schedule}"
            )
        };
        write(
            dir.path(),
            "q1.yml",
            &query("Q", "SELECT count(*) FROM t", "  RateMinutes: 60\n  TimeoutMinutes: 5\n"),
        );
        write(
            dir.path(),
            "q2.yml",
            &query("Cron", "select 1", "  CronExpression: '0 * * * *'\n  TimeoutMinutes: 5\n"),
        );
        write(
            dir.path(),
            "bad_rate.yml",
            &query("B1", "select 1", "  RateMinutes: 1\n  TimeoutMinutes: 1\n"),
        );
        write(
            dir.path(),
            "bad_sql.yml",
            &query("B2", "SELECT count(* FROM t", "  RateMinutes: 5\n  TimeoutMinutes: 1\n"),
        );
        write(
            dir.path(),
            "saved.yml",
            "AnalysisType: saved_query\nQueryName: Saved\nQuery: 'with x as (select 1) select * from x'\n",
        );
        write(
            dir.path(),
            "c.yml",
            "AnalysisType: correlation_rule\nRuleID: C\nEnabled: true\nSeverity: High\nDetection:\n  - Sequence: []\n",
        );
        write(
            dir.path(),
            "lt.yml",
            "AnalysisType: lookup_table\nLookupName: L\nEnabled: true\nFilename: l.csv\nSchema: Custom.L\nLogTypeMap:\n  PrimaryKey: ip\n  AssociatedLogTypes: []\n",
        );
        let pack = load(&[dir.path().to_owned()], &LoadOptions::default()).unwrap();
        assert_eq!(pack.detections.len(), 1);
        assert_eq!(
            (pack.detections[0].id.as_str(), pack.detections[0].kind),
            ("S", DetectionKind::Rule)
        );
        let mut names: Vec<&str> = pack.queries.iter().map(|q| q.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["Cron", "Q", "Saved"]);
        assert_eq!(pack.validated_only.get("correlation_rule"), Some(&1));
        assert_eq!(pack.validated_only.get("lookup_table"), Some(&1));
        let mut invalid: Vec<String> = pack.invalid.iter().map(|i| i.message.clone()).collect();
        invalid.sort();
        assert_eq!(invalid.len(), 2, "{invalid:?}");
        assert!(invalid[0].contains("Query: unbalanced '('"), "{invalid:?}");
        assert!(invalid[1].contains("RateMinutes must be more than 1"), "{invalid:?}");
        assert!(pack.unsupported.is_empty(), "{:?}", pack.unsupported);
    }

    /// #15.5: keys the public repo uses load without a warning.
    #[test]
    fn public_keys_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "r.py", "def rule(e):\n    return True\n");
        write(
            dir.path(),
            "r.yml",
            "AnalysisType: rule\nRuleID: R\nEnabled: true\nFilename: r.py\nSeverity: Low\nLogTypes: [AWS.CloudTrail]\nAlertTitle: t\nTests:\n  - Name: n\n    LogType: AWS.CloudTrail\n    ExpectedResult: true\n    Log: {}\n",
        );
        let pack = load(
            &[dir.path().to_owned()],
            &LoadOptions { strict_keys: true, ..LoadOptions::default() },
        )
        .unwrap();
        assert!(pack.invalid.is_empty() && pack.warnings.is_empty(), "{:?}", pack.invalid);
        assert_eq!(pack.detections.len(), 1);
    }

    #[test]
    fn missing_python_file_names_the_filename() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "r.yml",
            "AnalysisType: rule\nRuleID: R\nEnabled: true\nFilename: gone.py\nLogTypes: [AWS.CloudTrail]\nSeverity: High\n",
        );
        let pack = load(&[dir.path().to_owned()], &LoadOptions::default()).unwrap();
        assert!(pack.invalid[0].message.starts_with("Filename gone.py"), "{:?}", pack.invalid);
    }

    #[test]
    fn duplicate_ids_keep_the_first_spec() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "p.py", "def policy(r):\n    return True\n");
        let spec =
            "AnalysisType: policy\nPolicyID: X\nEnabled: true\nFilename: p.py\nSeverity: Low\n";
        write(dir.path(), "a.yml", spec);
        write(dir.path(), "b.yml", spec);
        let pack = load(&[dir.path().to_owned()], &LoadOptions::default()).unwrap();
        assert_eq!(pack.detections.len(), 1);
        assert!(pack.invalid[0].message.contains("duplicate id X"));
    }
}
