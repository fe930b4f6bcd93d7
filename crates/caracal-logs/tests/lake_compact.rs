//! `caracal lake compact` on a lake the writer made of many small files: fewer files, the
//! same rows; retention deletes only the partitions past it; a second run changes nothing.

mod common;

use std::path::Path;
use std::time::Duration;

use caracal_logs::compact::{CompactOptions, compact, rows_by_table};
use caracal_logs::lake_tables::local_lake_files;
use caracal_logs::{EventSink, LakeConfig, LakeWriter, LocalLake, PARSERS, Processor, SourceInfo};
use chrono::{TimeZone, Utc};

/// Every bundled sample, written in files of a few KiB so partitions hold many files.
fn small_file_lake() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = LakeConfig {
        max_file_bytes: 4 << 10,
        max_buffered_bytes: 64 << 20,
        max_age: Duration::from_secs(3600),
    };
    let mut lake = LakeWriter::new(LocalLake::new(dir.path()), config);
    let mut proc = Processor::new(PARSERS.to_vec(), SourceInfo::new("src", "Samples"));
    for entry in std::fs::read_dir(common::data("")).expect("data dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() && !path.ends_with("malformed") {
            caracal_logs::process_path(&mut proc, &path, &mut lake).expect("samples process");
        }
    }
    lake.flush().expect("flush");
    dir
}

fn files(root: &Path) -> usize {
    local_lake_files(root).expect("files").len()
}

fn total(rows: &std::collections::BTreeMap<String, Vec<String>>) -> usize {
    rows.values().map(Vec::len).sum()
}

#[test]
fn compaction_keeps_every_row_and_leaves_one_file_per_partition() {
    let dir = small_file_lake();
    let before = rows_by_table(dir.path()).expect("rows");
    let files_before = files(dir.path());
    let partitions: std::collections::BTreeSet<String> = local_lake_files(dir.path())
        .expect("files")
        .into_iter()
        .map(|(k, _)| k.rsplit_once('/').map(|(p, _)| p.to_owned()).unwrap_or_default())
        .collect();
    assert!(
        files_before > partitions.len() + 10,
        "{files_before} files in {} partitions",
        partitions.len()
    );

    let dry = compact(dir.path(), &CompactOptions { dry_run: true, ..CompactOptions::default() })
        .expect("dry run");
    assert_eq!(files(dir.path()), files_before, "a dry run changes nothing");

    let report = compact(dir.path(), &CompactOptions::default()).expect("compact");
    assert_eq!(report.files_in, dry.files_in);
    assert_eq!(files(dir.path()), partitions.len());
    assert!(report.rows > 0 && report.rows as usize <= total(&before), "{report:?}");
    let after = rows_by_table(dir.path()).expect("rows");
    assert_eq!(total(&after), total(&before));
    assert_eq!(after, before, "the same rows, column by column");

    let again = compact(dir.path(), &CompactOptions::default()).expect("second run");
    assert_eq!((again.files_in, again.files_out, again.recovered), (0, 0, 0));
}

#[test]
fn retention_deletes_only_partitions_past_it() {
    let dir = small_file_lake();
    let before = local_lake_files(dir.path()).expect("files");
    // The samples span 2014-2024; keep what ended within 400 days of 2020-01-01.
    let now = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).single().expect("time");
    let cutoff = now - chrono::Duration::days(400);
    let options = CompactOptions {
        retain: Some(chrono::Duration::days(400)),
        now,
        ..CompactOptions::default()
    };
    let report = compact(dir.path(), &options).expect("retention");
    assert!(report.partitions_deleted > 0, "{report:?}");
    let old = |k: &str| {
        caracal_logs::lake_tables::LakeKey::parse(k).expect("key").hour + chrono::Duration::hours(1)
            <= cutoff
    };
    let deleted = before.iter().filter(|(k, _)| old(k)).count();
    assert_eq!(report.files_deleted as usize, deleted);
    for (key, _) in local_lake_files(dir.path()).expect("files") {
        assert!(!old(&key), "{key} should be gone");
    }
    assert!(before.iter().any(|(k, _)| !old(k)), "some partitions are newer than the cutoff");
}
