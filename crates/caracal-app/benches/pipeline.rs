//! End to end detection throughput on CloudTrail: read + classify + parse + normalize +
//! every bundled CloudTrail rule + alert decisions (dedup windows and alerts in a real
//! SQLite file), beside parse + normalize alone over the same bytes in the same run.
//!
//! Run: `RUSTFLAGS="--cfg caracal_bench" cargo bench -p caracal-app --bench pipeline`
//!
//! Prints one `ratio` line: both run alternately and each keeps its fastest time, which
//! holds up on a shared machine. The target is >= 0.4x of parse-only.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use caracal_app::DetectSink;
use caracal_core::config::{StoreBackend, StoreConfig};
use caracal_detect::{Detector, Router, RuleSource, Rules};
use caracal_logs::{Discard, EventSink, ObjectInfo, PARSERS, Processor, SourceInfo};
use chrono::Utc;
use serde_json::Value;

/// About 4 MB of CloudTrail JSON lines, made from the stratus-red-team samples.
fn cloudtrail_lines() -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../caracal-logs/tests/data/AWS.CloudTrail");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("data dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("stratus_"))
        .collect();
    paths.sort();
    let mut records = Vec::new();
    for path in &paths {
        let v: Value = serde_json::from_slice(&std::fs::read(path).expect("sample")).expect("json");
        records
            .extend(v.as_array().cloned().unwrap_or_default().into_iter().map(|r| r.to_string()));
    }
    let mut out = Vec::new();
    while out.len() < 4 << 20 {
        for r in &records {
            out.extend_from_slice(r.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

fn parse(bytes: &[u8], sink: &mut dyn EventSink) -> u64 {
    let mut p = Processor::new(PARSERS.to_vec(), SourceInfo::new("bench", "bench"));
    let object = ObjectInfo { name: "bench".into(), reference_time: Utc::now() };
    let report = p.process(&object, bytes, sink).expect("processing");
    sink.flush().expect("flush");
    report.events
}

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let _guard = runtime.enter();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = StoreConfig { backend: StoreBackend::Sqlite, ..Default::default() };
    config.sqlite.path = dir.path().join("bench.db");
    let store = runtime.block_on(async {
        let store = caracal_store::open(&config, None).await.expect("store");
        store.create_tables().await.expect("tables");
        store
    });
    let rules_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules"));
    let rules = Rules::compile(&RuleSource { paths: vec![rules_dir], ..Default::default() })
        .expect("bundled rules compile");
    let cloudtrail_rules = rules.meta().len();
    let detector = Arc::new(Detector::new(Arc::new(rules), store, Arc::new(Router::empty())));
    detector.attach_store().expect("posture");

    let bytes = cloudtrail_lines();
    let time = |f: &mut dyn FnMut() -> u64| {
        let start = Instant::now();
        black_box(f());
        start.elapsed()
    };
    let (mut ours, mut base) = (Duration::MAX, Duration::MAX);
    let mut events = 0;
    for _ in 0..7 {
        ours = ours.min(time(&mut || {
            let mut sink = DetectSink::new(detector.clone(), 1000);
            events = parse(black_box(&bytes), &mut sink);
            events
        }));
        base = base.min(time(&mut || parse(black_box(&bytes), &mut Discard)));
    }
    let summary = detector.summary();
    let events = events as f64;
    println!(
        "aws_cloudtrail: parse+normalize+{cloudtrail_rules} rules+alerts {:.0} k events/s, \
         parse+normalize {:.0} k events/s, ratio {:.2}x (fastest of 7 alternating runs; \
         {} matches, {} alerts opened over all runs)",
        events / ours.as_secs_f64() / 1e3,
        events / base.as_secs_f64() / 1e3,
        base.as_secs_f64() / ours.as_secs_f64(),
        summary.matches,
        summary.opened.len(),
    );
}
