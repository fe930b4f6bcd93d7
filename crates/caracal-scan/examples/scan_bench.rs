//! Scan benchmark: for each scale given (default 1, 20 and 50) starts a fresh emulator,
//! seeds it with the realistic mix (`seed::Mix::Realistic`: at scale 50 about 3,900
//! resources, 1,000 of them buckets), scans it into a temporary SQLite store and prints wall time, AWS requests,
//! requests per resource and the scanner process's peak RSS; then, per scale, the requests
//! of each resource type, per resource and per operation.
//!
//! `cargo run -p caracal-scan --example scan_bench -- 1 20 50`
//!
//! Peak RSS is VmHWM of this process, reset (`/proc/self/clear_refs` = 5) after seeding,
//! so it covers the scan only; the emulator is another process and is not counted.
//! With `SCAN_BENCH_THROTTLE_EVERY=5` each scale is scanned again through the fault proxy
//! with every 5th request throttled, printing the throttled count and the time against
//! the clean scan's.
//! Each scale is then scanned a second time with the seeded AWS Config recorder turned on
//! (`source = auto` reads S3 bucket details from Config items, #17.1): the `auto` rows;
//! the first scan of each scale reads the API only (`api`).
//! Targets at scale 50: ≤ 30 s, ≤ 10,000 requests, ≤ 150 MB.

use std::sync::Arc;
use std::time::Instant;

use caracal_aws::Purpose;
use caracal_core::config::ScanSource;
use caracal_scan::{Inventory, ScanRequest, Scanner};
use caracal_store::{SqliteStore, Store};
use caracal_testkit::{Emulator, Fault, FaultProxy, Matcher, seed};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scales: Vec<u32> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let scales = if scales.is_empty() { vec![1, 20, 50] } else { scales };
    // `SCAN_BENCH_THROTTLE_EVERY=5`: after each clean scan, the same account is scanned
    // again through the fault proxy with every 5th request throttled.
    let throttle_every: Option<u64> =
        std::env::var("SCAN_BENCH_THROTTLE_EVERY").ok().and_then(|v| v.parse().ok());
    let mut per_type = Vec::new();
    println!("scale  source  resources  wall_s  requests  req/resource  peak_rss_mb  errors");
    for scale in scales {
        let emulator = Emulator::start()?;
        let aws = emulator.aws().await?;
        let session = aws.session(None, Purpose::Scan).await?;
        let manifest = seed::seed_mix(&session, scale, seed::Mix::Realistic).await?;
        let (outcome, wall) = scan_once(&session, scale, ScanSource::Api).await?;
        let seen = outcome.report.totals().seen;
        assert!(seen as usize >= manifest.resource_count(), "scan missed seeded resources");
        if let Some(every) = throttle_every {
            throttled_scan(&emulator, scale, every, wall).await?;
        }
        per_type.push((scale, "api", outcome.report));
        seed::start_config_recorder(&session, &manifest.config_recorder).await?;
        let (outcome, _) = scan_once(&session, scale, ScanSource::Auto).await?;
        per_type.push((scale, "auto", outcome.report));
    }
    for (scale, source, report) in &per_type {
        println!("\nscale {scale}, {source}: requests per type (and per resource), busiest first");
        let mut types: Vec<_> = report.types.iter().collect();
        types.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then(a.0.cmp(b.0)));
        for (t, s) in types {
            let per = s.requests_per_resource().map_or_else(|| "-".into(), |r| format!("{r:.2}"));
            let ops: Vec<String> = s.operations.iter().map(|(op, n)| format!("{op}={n}")).collect();
            println!(
                "  {t:<28} seen {:>5}  requests {:>6}  per resource {per:>6}  {}",
                s.seen,
                s.requests,
                ops.join(" ")
            );
        }
    }
    Ok(())
}

/// Scans the account into a new store reading details from `source` and prints one row
/// (`api`: the API only; `auto`, after the recorder is started: Config where it records).
async fn scan_once(
    session: &caracal_aws::Session,
    scale: u32,
    source: ScanSource,
) -> Result<(caracal_scan::ScanOutcome, f64), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("bench.db")).await?);
    // Reset the peak-RSS watermark so it measures the scan, not the seeding.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let started = Instant::now();
    let outcome = Scanner::new(store, 8)
        .reading_from(Inventory::new(source, None))
        .scan(std::slice::from_ref(session), &ScanRequest::default(), &())
        .await?;
    let wall = started.elapsed().as_secs_f64();
    let seen = outcome.report.totals().seen;
    let label = if source == ScanSource::Api { "api" } else { "auto" };
    println!(
        "{scale:>5}  {label:<6}  {seen:>9}  {wall:>6.1}  {:>8}  {:>12.2}  {:>11.1}  {:>6}",
        outcome.report.requests,
        outcome.report.requests as f64 / seen.max(1) as f64,
        peak_rss_mb(),
        outcome.report.errors.len(),
    );
    Ok((outcome, wall))
}

/// Scans the emulator's account again, through the fault proxy with every `every`-th
/// request throttled, into a new store, and prints the throttled count and wall time
/// beside the clean scan's.
async fn throttled_scan(
    emulator: &Emulator,
    scale: u32,
    every: u64,
    clean_wall: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let proxy = FaultProxy::start(&emulator.endpoint())?;
    proxy.inject(Matcher::EveryNth(every), Fault::Throttling);
    let aws = emulator.aws_at(&proxy.endpoint(), 10).await?;
    let session = aws.session(None, Purpose::Scan).await?;
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("bench.db")).await?);
    let started = Instant::now();
    let outcome = Scanner::new(store, 8)
        .scan(std::slice::from_ref(&session), &ScanRequest::default(), &())
        .await?;
    let wall = started.elapsed().as_secs_f64();
    println!(
        "{scale:>5}  throttled 1 in {every}: {} of {} requests throttled, {wall:.1} s ({:.2}x the clean scan), {} errors",
        proxy.faults_served(),
        outcome.report.requests,
        wall / clean_wall.max(0.001),
        outcome.report.errors.len(),
    );
    Ok(())
}

/// VmHWM from /proc/self/status, in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
