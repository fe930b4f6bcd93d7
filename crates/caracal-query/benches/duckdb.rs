//! A scan-heavy query over >= 1 GB of lake: caracal's DataFusion session beside DuckDB
//! (the `duckdb` Python package of the dev venv) running the same SQL on the same files,
//! in the same run; prints both times and the ratio (target >= 0.5x DuckDB's speed).
//!
//! Run (release):
//! `RUSTFLAGS="--cfg caracal_bench" cargo bench -p caracal-query --bench duckdb`
//!
//! The lake is made once by the real writer under `$CARACAL_BENCH_LAKE` (default
//! `$TMPDIR/caracal-bench-lake`): CloudTrail events from the stratus-red-team samples with
//! varied ids, addresses and times, until the Parquet files reach `$CARACAL_BENCH_GB`
//! (default 1) GB. DuckDB runs through `$CARACAL_VENV/bin/python` and times its own query.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use caracal_logs::{
    Event, EventSink, LakeConfig, LakeWriter, LocalLake, ObjectInfo, PARSERS, Processor, SourceInfo,
};
use caracal_query::{Bounds, Lake};
use chrono::Utc;
use serde_json::Value;

const SQL: &str = "SELECT eventName, count(*) AS n, count(DISTINCT sourceIPAddress) AS ips, \
                   max(p_event_time) AS last FROM aws_cloudtrail \
                   WHERE errorCode IS NULL OR userAgent LIKE '%boto%' \
                   GROUP BY eventName ORDER BY n DESC, eventName";

fn lake_dir() -> PathBuf {
    std::env::var_os("CARACAL_BENCH_LAKE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("caracal-bench-lake"))
}

fn size(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        total += if path.is_dir() { size(&path) } else { entry.metadata().map_or(0, |m| m.len()) };
    }
    total
}

fn records() -> Vec<Value> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../caracal-logs/tests/data/AWS.CloudTrail");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("data dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("stratus_"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let v: Value = serde_json::from_slice(&std::fs::read(path).expect("sample")).expect("json");
        out.extend(v.as_array().cloned().unwrap_or_default());
    }
    out
}

/// Writes CloudTrail events until the lake holds `bytes`.
fn make_lake(root: &Path, bytes: u64) {
    let records = records();
    let mut lake = LakeWriter::new(LocalLake::new(root), LakeConfig::default());
    let mut processor = Processor::new(PARSERS.to_vec(), SourceInfo::new("bench", "bench"));
    let start = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").expect("time");
    let mut i: u64 = 0;
    let mut written = 0u64;
    while written < bytes {
        let mut chunk = Vec::new();
        for _ in 0..20_000 {
            let mut r = records[(i % records.len() as u64) as usize].clone();
            let t = start + chrono::Duration::seconds((i / 4) as i64);
            r["eventTime"] = Value::from(t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            r["eventID"] =
                Value::from(format!("{:08x}-{:04x}-4000-8000-{:012x}", i, i % 65536, i * 7919));
            r["requestID"] = Value::from(format!("{:016x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
            r["sourceIPAddress"] =
                Value::from(format!("10.{}.{}.{}", (i >> 16) % 256, (i >> 8) % 256, i % 256));
            if i.is_multiple_of(3) {
                r["errorCode"] = Value::from("AccessDenied");
            }
            chunk.extend_from_slice(r.to_string().as_bytes());
            chunk.push(b'\n');
            i += 1;
        }
        let mut events: Vec<Event> = Vec::new();
        let object = ObjectInfo { name: "bench".into(), reference_time: Utc::now() };
        processor.process(&object, chunk.as_slice(), &mut events).expect("process");
        for e in events {
            lake.accept(e).expect("accept");
        }
        if i.is_multiple_of(1_000_000) {
            lake.flush().expect("flush");
            written = size(root);
            eprintln!("lake: {i} events, {} MB", written >> 20);
        }
    }
    lake.flush().expect("flush");
}

fn duckdb(root: &Path, runs: usize) -> (Duration, String) {
    let python = std::env::var("CARACAL_VENV")
        .map(|v| PathBuf::from(v).join("bin/python"))
        .unwrap_or_else(|_| PathBuf::from("python3"));
    let script = r#"
import sys, time, duckdb
root, sql, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(f"CREATE VIEW aws_cloudtrail AS SELECT * FROM read_parquet('{root}/aws_cloudtrail/*/*/*/*/*.parquet', union_by_name=true)")
best = None
for _ in range(runs):
    start = time.perf_counter()
    rows = con.execute(sql).fetchall()
    t = time.perf_counter() - start
    best = t if best is None else min(best, t)
print(best, len(rows), rows[0][1])
"#;
    let out = Command::new(python)
        .args(["-c", script, &root.display().to_string(), SQL, &runs.to_string()])
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let secs: f64 = text.split(' ').next().and_then(|s| s.parse().ok()).expect("seconds");
    (Duration::from_secs_f64(secs), text)
}

fn main() {
    let root = lake_dir();
    let gb: f64 =
        std::env::var("CARACAL_BENCH_GB").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let want = (gb * (1u64 << 30) as f64) as u64;
    if size(&root) < want {
        let _ = std::fs::remove_dir_all(&root);
        let start = Instant::now();
        make_lake(&root, want);
        eprintln!("lake written in {:.0} s", start.elapsed().as_secs_f64());
    }
    let bytes = size(&root);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let runs = 5;
    let (ours, rows, top) = runtime.block_on(async {
        let lake = Lake::open(&root, Bounds::default()).await.expect("open");
        let mut best = Duration::MAX;
        let mut rows = 0;
        let mut top = String::new();
        for _ in 0..runs {
            let start = Instant::now();
            let batches = lake.sql(SQL).await.expect("query");
            best = best.min(start.elapsed());
            rows = batches.iter().map(|b| b.num_rows()).sum::<usize>();
            let mut text = Vec::new();
            caracal_query::output::write(&batches[..1], caracal_query::Format::Csv, &mut text)
                .expect("csv");
            top = String::from_utf8_lossy(&text).lines().nth(1).unwrap_or_default().to_owned();
        }
        (best, rows, top)
    });
    let (theirs, duck) = duckdb(&root, runs);
    println!(
        "scan-heavy query over {:.2} GB of lake ({rows} groups; first: {top}): caracal-query \
         {:.2} s, DuckDB {:.2} s ({duck}); caracal/DuckDB speed {:.2}x (fastest of {runs})",
        bytes as f64 / (1u64 << 30) as f64,
        ours.as_secs_f64(),
        theirs.as_secs_f64(),
        theirs.as_secs_f64() / ours.as_secs_f64(),
    );
}
