//! Golden tests for the log types: `tests/golden/<LogType>/` holds `input.*` (at least
//! three records written from the vendor's documented format), `expected.jsonl` (the
//! normalized events, `p_parse_time` and `p_row_id` left out) and `near_miss.*` (records
//! of a neighbouring format that this type must not claim).
//!
//! `CARACAL_BLESS=1 cargo nextest run -p caracal-logs --test golden` rewrites the
//! `expected.jsonl` files from the current output; review the diff before committing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use caracal_logs::{
    Catalog, Event, EventSink, LakeConfig, LakeWriter, LocalLake, ObjectInfo, Parser, Processor,
    Report, SourceInfo, TypeSource, process_path,
};
use chrono::{TimeZone, Utc};
use serde_json::Value;

fn golden_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// `(log type, folder)` for every golden folder, sorted.
fn folders() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(golden_root())
        .expect("tests/golden exists")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    out.sort();
    out
}

/// The one file in `dir` whose name starts with `stem.`.
fn file(dir: &Path, stem: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_stem().is_some_and(|s| s == stem))
}

fn process(parsers: Vec<&dyn Parser>, name: &str, bytes: &[u8]) -> (Report, Vec<Event>) {
    let mut events = Vec::new();
    let mut p = Processor::new(parsers, SourceInfo::new("golden", "Golden"));
    let object = ObjectInfo {
        name: name.into(),
        reference_time: Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).single().unwrap_or_default(),
    };
    let report = p.process(&object, bytes, &mut events).expect("a Vec sink never fails");
    assert_eq!(report.events + report.errors, report.records, "accounting for {name}");
    (report, events)
}

/// An event as compared: its JSON without the fields that change per run.
fn comparable(e: &Event) -> Value {
    let mut v = e.to_json();
    if let Some(map) = v.as_object_mut() {
        map.remove("p_parse_time");
        map.remove("p_row_id");
    }
    v
}

/// Every type caracal ships, native parsers and bundled schemas alike, has its golden
/// folder; every folder names a type.
#[test]
fn every_type_has_a_golden_folder_and_every_folder_a_type() {
    let catalog = Catalog::new(Vec::new()).expect("bundled schemas load");
    let types: BTreeMap<String, TypeSource> =
        catalog.entries().into_iter().map(|(p, s)| (p.log_type().to_owned(), s)).collect();
    let folders: Vec<String> = folders().into_iter().map(|(t, _)| t).collect();
    for (name, source) in &types {
        if matches!(source, TypeSource::Native | TypeSource::Bundled) {
            assert!(
                folders.contains(name),
                "{} type {name} has no tests/golden/{name}/",
                source.as_str()
            );
        }
    }
    for name in &folders {
        assert!(types.contains_key(name), "tests/golden/{name}/ names no known log type");
    }
    assert!(types.values().any(|s| *s == TypeSource::Native), "no native type listed");
    assert!(types.len() >= 59, "{} log types", types.len());
}

#[test]
fn golden_records_become_their_expected_events_among_all_candidates() {
    let catalog = Catalog::new(Vec::new()).expect("bundled schemas load");
    let bless = std::env::var_os("CARACAL_BLESS").is_some();
    let mut failures = Vec::new();
    for (log_type, dir) in folders() {
        let Some(input) = file(&dir, "input") else {
            failures.push(format!("{log_type}: no input file"));
            continue;
        };
        let bytes = std::fs::read(&input).expect("readable input");
        let (report, events) = process(catalog.parsers(), &input.display().to_string(), &bytes);
        if report.errors > 0 || events.len() < 3 {
            failures.push(format!(
                "{log_type}: {} events, {} errors: {:?}",
                events.len(),
                report.errors,
                report.first_errors
            ));
            continue;
        }
        if let Some(other) = events.iter().find(|e| e.log_type() != log_type) {
            failures.push(format!("{log_type}: a record became {}", other.log_type()));
            continue;
        }
        let got: Vec<Value> = events.iter().map(comparable).collect();
        let expected_path = dir.join("expected.jsonl");
        if bless {
            let text: String = got.iter().map(|v| format!("{v}\n")).collect();
            std::fs::write(&expected_path, text).expect("write expected.jsonl");
            continue;
        }
        let want: Vec<Value> = std::fs::read_to_string(&expected_path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("expected.jsonl holds JSON lines"))
            .collect();
        if got != want {
            let first = got.iter().zip(&want).position(|(g, w)| g != w).unwrap_or(want.len());
            failures.push(format!(
                "{log_type}: event {first} differs\n got: {}\nwant: {}",
                got.get(first).map(Value::to_string).unwrap_or_default(),
                want.get(first).map(Value::to_string).unwrap_or_default()
            ));
        }
        for e in &got {
            let time = e["p_event_time"].as_str().unwrap_or("");
            if time.starts_with("2024-07-01 00:00:00") || time.is_empty() {
                failures.push(format!("{log_type}: an event has no time of its own: {time}"));
            }
        }
        let with_indicators = got
            .iter()
            .filter(|e| e.as_object().is_some_and(|m| m.keys().any(|k| k.starts_with("p_any_"))))
            .count();
        if with_indicators * 2 < got.len() {
            failures.push(format!("{log_type}: only {with_indicators} events have indicators"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn near_misses_of_other_formats_are_not_claimed() {
    let catalog = Catalog::new(Vec::new()).expect("bundled schemas load");
    let mut failures = Vec::new();
    for (log_type, dir) in folders() {
        let Some(path) = file(&dir, "near_miss") else {
            failures.push(format!("{log_type}: no near_miss file"));
            continue;
        };
        let bytes = std::fs::read(&path).expect("readable near miss");
        let parser = catalog.parsers().into_iter().find(|p| p.log_type() == log_type);
        let Some(parser) = parser else { continue };
        let (alone, events) = process(vec![parser], &path.display().to_string(), &bytes);
        if !events.is_empty() || alone.records == 0 {
            failures.push(format!(
                "{log_type}: claimed {} of {} near-miss records",
                events.len(),
                alone.records
            ));
        }
        let (_, events) = process(catalog.parsers(), &path.display().to_string(), &bytes);
        if events.iter().any(|e| e.log_type() == log_type) {
            failures.push(format!("{log_type}: claimed a near miss among all candidates"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_mixed_folder_classifies_each_file_to_its_type_and_leaves_other_json_unclassified() {
    let catalog = Catalog::new(Vec::new()).expect("bundled schemas load");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for (log_type, folder) in folders() {
        let Some(input) = file(&folder, "input") else { continue };
        let ext = input.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
        std::fs::copy(&input, dir.path().join(format!("{log_type}.{ext}"))).expect("copy");
        let bytes = std::fs::read(&input).expect("readable");
        let (_, events) = process(catalog.parsers(), "count", &bytes);
        want.insert(log_type, events.len() as u64);
    }
    let other = [
        r#"{"user":"x","score":3,"tags":["a"]}"#,
        r#"{"timestamp":"2024-01-01T00:00:00Z","level":"info","msg":"started"}"#,
        r#"{"id":7,"kind":"order","total":12.5,"time":1700000000}"#,
    ];
    std::fs::write(dir.path().join("zz-other.json"), other.join("\n")).expect("write");
    let mut processor = Processor::new(catalog.parsers(), SourceInfo::new("mixed", "Mixed"));
    let mut events = Vec::new();
    let report = process_path(&mut processor, dir.path(), &mut events).expect("readable folder");
    let mut by_file: BTreeMap<String, u64> = BTreeMap::new();
    for (log_type, stats) in &report.by_type {
        if log_type != "(unclassified)" {
            assert_eq!(stats.errors, 0, "{log_type}: {:?}", report.first_errors);
            by_file.insert(log_type.clone(), stats.events);
        }
    }
    assert_eq!(by_file, want);
    assert_eq!(report.errors, 3, "{:?}", report.first_errors);
    assert_eq!(report.by_type["(unclassified)"].errors, 3);
    assert!(report.first_errors.iter().all(|e| e.object.ends_with("zz-other.json")));
}

#[test]
fn every_golden_event_is_written_to_the_lake() {
    let catalog = Catalog::new(Vec::new()).expect("bundled schemas load");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lake = LakeWriter::new(LocalLake::new(dir.path()), LakeConfig::default());
    let mut total = 0;
    let mut types = Vec::new();
    for (log_type, folder) in folders() {
        let Some(input) = file(&folder, "input") else { continue };
        let bytes = std::fs::read(&input).expect("readable");
        let (_, events) = process(catalog.parsers(), &log_type, &bytes);
        total += events.len();
        types.push(log_type);
        for e in events {
            lake.accept(e).expect("lake takes every event");
        }
    }
    lake.flush().expect("flush");
    let rows: usize = lake
        .written()
        .iter()
        .map(|k| {
            let f = std::fs::File::open(dir.path().join(k)).expect("written file");
            parquet::file::reader::SerializedFileReader::new(f)
                .map(|r| {
                    use parquet::file::reader::FileReader;
                    r.metadata().file_metadata().num_rows() as usize
                })
                .expect("parquet")
        })
        .sum();
    assert_eq!(rows, total);
    assert!(lake.written().len() >= types.len(), "{:?}", lake.written());
}
