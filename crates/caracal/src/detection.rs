//! Detection, as far as it goes today: parse log files into normalized events and run a
//! rule pack over them. Alert dedup, thresholds and delivery come with the rules engine.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use caracal_core::Severity;
use caracal_logs::{Event, PARSERS, Processor, SourceInfo, process_path};
use caracal_python::{Engine, EngineOptions, LoadOptions};

/// What one run over a set of log files found.
#[derive(Debug, Default)]
pub struct Matches {
    /// Input records read.
    pub records: u64,
    /// Normalized events.
    pub events: u64,
    /// Records that did not parse (each counted with its source by caracal-logs).
    pub errors: u64,
    /// Per rule id: severity, first title, matching events.
    pub by_rule: BTreeMap<String, (Severity, String, u64)>,
    /// Rule errors (`rule()` raised or timed out).
    pub rule_errors: u64,
}

/// Parses every file under `logs` with the built-in parsers and evaluates the rules in
/// `rules` on the events, in one blocking task (the engine holds the GIL).
pub async fn run(logs: PathBuf, rules: PathBuf) -> anyhow::Result<Matches> {
    tokio::task::spawn_blocking(move || -> anyhow::Result<Matches> {
        let mut processor = Processor::new(PARSERS.to_vec(), SourceInfo::new("demo", "demo logs"));
        let mut events: Vec<Event> = Vec::new();
        let report = process_path(&mut processor, &logs, &mut events)
            .with_context(|| format!("reading logs under {}", logs.display()))?;
        let pack =
            caracal_python::pack::load(std::slice::from_ref(&rules), &LoadOptions::default())
                .with_context(|| format!("loading rules from {}", rules.display()))?;
        let engine = Engine::new(&pack, &EngineOptions::default())?;
        let json: Vec<serde_json::Value> = events.iter().map(Event::to_json).collect();
        let mut matches = Matches {
            records: report.records,
            events: report.events,
            errors: report.errors,
            ..Matches::default()
        };
        for outcome in engine.evaluate_events(&json)? {
            if outcome.error.is_some() {
                matches.rule_errors += 1;
                continue;
            }
            let Some(rule) = engine.rules().get(outcome.rule) else { continue };
            let severity = engine.outcome_severity(&outcome);
            let entry = matches.by_rule.entry(rule.id.clone()).or_insert_with(|| {
                (severity, outcome.title.clone().unwrap_or_else(|| rule.id.clone()), 0)
            });
            entry.2 += 1;
        }
        Ok(matches)
    })
    .await
    .context("detection task failed")?
}

/// Prints the rule matches, worst first.
pub fn print(out: &mut impl Write, m: &Matches) -> std::io::Result<()> {
    writeln!(
        out,
        "{} log records: {} events, {} unparsed; {} rules matched, {} rule errors",
        m.records,
        m.events,
        m.errors,
        m.by_rule.len(),
        m.rule_errors
    )?;
    if m.by_rule.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<_> = m.by_rule.iter().collect();
    rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then_with(|| a.0.cmp(b.0)));
    writeln!(out, "\n{:<9} {:>6}  {:<42} FIRST TITLE", "SEVERITY", "EVENTS", "RULE")?;
    for (id, (severity, title, count)) in rows {
        writeln!(out, "{severity:<9} {count:>6}  {id:<42} {title}")?;
    }
    Ok(())
}
