//! End to end detection throughput on CloudTrail: read + classify + parse + normalize +
//! every bundled CloudTrail rule + alert decisions (dedup windows and alerts in a real
//! SQLite file), beside parse + normalize alone over the same bytes in the same run.
//!
//! Run: `RUSTFLAGS="--cfg caracal_bench" cargo bench -p caracal-app --bench pipeline`
//!
//! Rules run in worker processes, as `caracal logs process|poll` and `caracal serve` run
//! them, and, for comparison, in this process's interpreter. Prints one `ratio` line:
//! the three run alternately and each keeps its fastest time, which holds up on a
//! shared machine. The target is >= 0.4x of parse-only.

use std::ffi::OsStr;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use caracal_app::DetectSink;
use caracal_core::config::{StoreBackend, StoreConfig};
use caracal_detect::{Detector, Router, RuleSource, Rules};
use caracal_logs::{Discard, EventSink, ObjectInfo, PARSERS, Processor, SourceInfo};
use caracal_python::worker;
use chrono::Utc;
use serde_json::Value;

/// About 32 MB of CloudTrail JSON lines (about 20,000 events, 20 batches: enough for the
/// rules thread to reach its steady state), made from the stratus-red-team samples.
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
    while out.len() < 32 << 20 {
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

fn main() -> ExitCode {
    // This program is its own worker program, as the `caracal` binary is. It compiles
    // the in-process engine before it says so (`serve_if_requested`), since from then
    // on engines pick worker processes, as in `caracal logs process`.
    if std::env::args_os().nth(1).as_deref() == Some(OsStr::new(worker::WORKER_ARG)) {
        return worker::serve();
    }
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
    let detector = |store: Arc<dyn caracal_store::Store>| {
        let rules =
            Rules::compile(&RuleSource { paths: vec![rules_dir.clone()], ..Default::default() })
                .expect("bundled rules compile");
        let detector = Arc::new(Detector::new(Arc::new(rules), store, Arc::new(Router::empty())));
        detector.attach_store().expect("posture");
        detector
    };
    let in_process = detector(store.clone());
    assert!(worker::serve_if_requested().is_none());
    let isolated = detector(store);
    assert!(isolated.is_isolated() && !in_process.is_isolated());
    let cloudtrail_rules = isolated.rules().meta().len();

    let bytes = cloudtrail_lines();
    let time = |f: &mut dyn FnMut() -> u64| {
        let start = Instant::now();
        black_box(f());
        start.elapsed()
    };
    let run = |detector: &Arc<Detector>| {
        let mut sink = DetectSink::new(detector.clone(), 1000);
        parse(black_box(&bytes), &mut sink)
    };
    let (mut workers, mut local, mut base) = (Duration::MAX, Duration::MAX, Duration::MAX);
    let mut events = 0;
    for _ in 0..7 {
        workers = workers.min(time(&mut || {
            events = run(&isolated);
            events
        }));
        local = local.min(time(&mut || run(&in_process)));
        base = base.min(time(&mut || parse(black_box(&bytes), &mut Discard)));
    }
    let summary = isolated.summary();
    let events = events as f64;
    let per_second = |d: Duration| events / d.as_secs_f64() / 1e3;
    println!(
        "aws_cloudtrail: parse+normalize+{cloudtrail_rules} rules+alerts {:.0} k events/s with \
         rules in worker processes (the default), {:.0} k in-process; parse+normalize {:.0} k \
         events/s (fastest of 7 alternating runs; {} matches, {} alerts opened over all runs)",
        per_second(workers),
        per_second(local),
        per_second(base),
        summary.matches,
        summary.opened.len(),
    );
    println!(
        "ratio {:.2}x of parse-only (worker processes; in-process {:.2}x; target >= 0.4x)",
        base.as_secs_f64() / workers.as_secs_f64(),
        base.as_secs_f64() / local.as_secs_f64(),
    );
    ExitCode::SUCCESS
}
