//! The lake writer writes Parquet under Hive partitions that read back with the same rows.

mod common;

use std::fs::File;
use std::time::Duration;

use arrow_array::{Array, ListArray, RecordBatch, StringArray, TimestampMicrosecondArray};
use caracal_logs::{
    EventSink, LakeConfig, LakeWriter, LocalLake, ObjectInfo, PARSERS, Processor, SourceInfo,
};
use chrono::Utc;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn read_all(root: &std::path::Path, keys: &[String]) -> Vec<RecordBatch> {
    keys.iter()
        .flat_map(|k| {
            let file = File::open(root.join(k)).expect("written file exists");
            ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("parquet")
                .build()
                .expect("reader")
        })
        .map(|b| b.expect("batch"))
        .collect()
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> &'a T {
    batch.column_by_name(name).expect("column").as_any().downcast_ref::<T>().expect("type")
}

#[test]
fn events_land_in_hive_partitions_and_read_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lake = LakeWriter::new(LocalLake::new(dir.path()), LakeConfig::default());
    let total = two_samples(&mut lake);
    lake.flush().expect("flush");
    let keys = lake.written().to_vec();
    assert!(
        keys.iter().any(|k| k.starts_with("aws_cloudtrail/year=2014/month=07/day=16/hour=15/")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("aws_vpcflow/year=2016/month=10/day=31/hour=11/")),
        "{keys:?}"
    );
    assert!(keys.iter().all(|k| k.ends_with(".parquet")));

    let batches = read_all(dir.path(), &keys);
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows as u64, total);

    // The console login of 2014-07-16 15:49:27 UTC, wherever its partition's file is.
    let want_time = 1_405_525_767_000_000;
    let (ct, row) = batches
        .iter()
        .find_map(|b| {
            let times = column::<TimestampMicrosecondArray>(b, "p_event_time");
            let is_trail = column::<StringArray>(b, "p_log_type").value(0) == "AWS.CloudTrail";
            (0..b.num_rows()).find(|&i| is_trail && times.value(i) == want_time).map(|i| (b, i))
        })
        .expect("the console login row");
    // The log's own fields are typed columns now (#18).
    assert_eq!(column::<StringArray>(ct, "eventName").value(row), "ConsoleLogin");
    assert_eq!(column::<StringArray>(ct, "p_source_id").value(row), "src-1");
    let ips = column::<ListArray>(ct, "p_any_ip_addresses").value(row);
    let ips = ips.as_any().downcast_ref::<StringArray>().expect("strings");
    assert_eq!(ips.value(0), "89.160.20.156");
}

#[test]
fn buffers_are_written_by_size_and_memory_stays_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = LakeConfig {
        max_file_bytes: 4096,
        max_buffered_bytes: 8192,
        max_age: Duration::from_secs(3600),
    };
    let mut lake = LakeWriter::new(LocalLake::new(dir.path()), config);
    let mut proc = Processor::new(PARSERS.to_vec(), SourceInfo::new("s", "s"));
    let bytes = std::fs::read(common::data("Syslog.RFC3164/loghub_Linux_2k.log")).expect("sample");
    let object = ObjectInfo { name: "linux".into(), reference_time: Utc::now() };
    let mut peak = 0;
    struct Watch<'a, S: caracal_logs::LakeStore>(&'a mut LakeWriter<S>, &'a mut usize);
    impl<S: caracal_logs::LakeStore> EventSink for Watch<'_, S> {
        fn accept(&mut self, e: caracal_logs::Event) -> Result<(), caracal_logs::Error> {
            self.0.accept(e)?;
            *self.1 = (*self.1).max(self.0.buffered_bytes());
            Ok(())
        }
    }
    let report =
        proc.process(&object, &bytes[..], &mut Watch(&mut lake, &mut peak)).expect("write");
    lake.flush().expect("flush");
    assert!(peak <= 8192, "peak {peak}");
    assert!(lake.written().len() > 10);
    let rows: usize = read_all(dir.path(), lake.written()).iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows as u64, report.events);
}

#[test]
fn old_buffers_are_written_by_age() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = LakeConfig { max_age: Duration::ZERO, ..LakeConfig::default() };
    let mut lake = LakeWriter::new(LocalLake::new(dir.path()), config);
    let mut proc = Processor::new(PARSERS.to_vec(), SourceInfo::new("s", "s"));
    let bytes =
        std::fs::read(common::data("Suricata.EVE/elastic-integrations_test-eve-dns-4-1-4.log"))
            .expect("sample");
    let object = ObjectInfo { name: "eve".into(), reference_time: Utc::now() };
    proc.process(&object, &bytes[..], &mut lake).expect("write");
    assert_eq!(lake.buffered_bytes(), 0, "every buffer is already past max_age");
    assert!(!lake.written().is_empty());
}

/// A store that refuses its first `failures` puts, then writes to a local folder.
struct Flaky {
    failures: usize,
    inner: LocalLake,
}

impl caracal_logs::LakeStore for Flaky {
    fn put(&mut self, key: &str, bytes: Vec<u8>) -> Result<(), caracal_logs::Error> {
        if self.failures > 0 {
            self.failures -= 1;
            return Err(caracal_logs::Error::Lake { key: key.into(), reason: "refused".into() });
        }
        self.inner.put(key, bytes)
    }
}

fn two_samples(lake: &mut dyn EventSink) -> u64 {
    let mut proc = Processor::new(PARSERS.to_vec(), SourceInfo::new("src-1", "Samples"));
    let mut total = 0;
    for file in [
        "AWS.CloudTrail/elastic-integrations_test-console-login-json.log",
        "AWS.VPCFlow/elastic-integrations_test-extra-samples.log",
    ] {
        let bytes = std::fs::read(common::data(file)).expect("sample");
        let object = ObjectInfo { name: file.into(), reference_time: Utc::now() };
        total += proc.process(&object, &bytes[..], lake).expect("buffered").events;
    }
    total
}

#[test]
fn a_failed_put_keeps_its_rows_and_the_next_flush_writes_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Flaky { failures: 1, inner: LocalLake::new(dir.path()) };
    let mut lake = LakeWriter::new(store, LakeConfig::default());
    let total = two_samples(&mut lake);
    let err = lake.flush().expect_err("the first put is refused");
    assert!(err.to_string().contains("refused"), "{err}");
    let written_before = lake.written().len();
    assert!(written_before > 0, "the other partitions are still written");
    assert!(lake.buffered_bytes() > 0, "the refused partition keeps its rows");

    lake.flush().expect("the store accepts again");
    assert_eq!(lake.buffered_bytes(), 0);
    assert_eq!(lake.written().len(), written_before + 1, "only the refused one is written again");
    let rows: usize = read_all(dir.path(), lake.written()).iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows as u64, total, "every event is in the lake exactly once");
}

#[test]
fn rows_a_failing_store_refuses_are_rescued_to_a_local_folder() {
    let lake_dir = tempfile::tempdir().expect("tempdir");
    let rescue_dir = tempfile::tempdir().expect("tempdir");
    let store = Flaky { failures: usize::MAX, inner: LocalLake::new(lake_dir.path()) };
    let mut lake = LakeWriter::new(store, LakeConfig::default());
    let total = two_samples(&mut lake);
    lake.flush().expect_err("the store refuses everything");
    assert!(lake.written().is_empty());

    let files = lake.rescue(rescue_dir.path()).expect("the local folder takes them");
    assert!(!files.is_empty());
    assert!(files.iter().all(|f| f.starts_with(rescue_dir.path()) && f.exists()));
    assert_eq!(lake.buffered_bytes(), 0);
    let keys: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(rescue_dir.path()).expect("inside").display().to_string())
        .collect();
    assert!(keys.iter().all(|k| k.contains("/year=")), "same Hive layout: {keys:?}");
    let rows: usize = read_all(rescue_dir.path(), &keys).iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows as u64, total);
}
