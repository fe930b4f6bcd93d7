//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use caracal_logs::{Event, ObjectInfo, PARSERS, Processor, Report, SourceInfo};
use chrono::{TimeZone, Utc};

pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

/// Processes bytes with every built-in parser as candidate.
pub fn process_bytes(name: &str, bytes: &[u8]) -> (Report, Vec<Event>) {
    let mut events = Vec::new();
    let mut p = Processor::new(PARSERS.to_vec(), SourceInfo::new("test-source", "Test source"));
    let object = ObjectInfo {
        name: name.into(),
        reference_time: Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).single().unwrap_or_default(),
    };
    let report = p.process(&object, bytes, &mut events).expect("a Vec sink never fails");
    assert_eq!(report.events + report.errors, report.records, "accounting for {name}");
    assert_eq!(report.events as usize, events.len());
    (report, events)
}

pub fn process_file(rel: &str) -> (Report, Vec<Event>) {
    let bytes = std::fs::read(data(rel)).expect("test data exists");
    process_bytes(rel, &bytes)
}

/// The `p_` fields and log fields of an event as JSON.
pub fn json(e: &Event) -> serde_json::Value {
    e.to_json()
}
