//! The stored snapshot documents of a seeded account do not change when collectors make
//! fewer calls (#17): a scan of the realistic mix at scale 1 is compared with
//! `tests/data/seeded_snapshots.json`, recorded with the collectors as they were before
//! (one `GetBucketLocation` and one `GetObjectLockConfiguration` per bucket, one
//! `GetAccountAuthorizationDetails` per IAM collector, snapshots described twice).
//!
//! The emulator makes new ids, times and addresses on every run, so both sides are
//! masked the same way (ids, UUIDs, times, IP addresses become placeholders) and compared
//! as sorted lists of documents. Everything else (every field, every value, every
//! null) must match. Record again (only when a snapshot shape changes on purpose, with
//! RESOURCES.md) with `CARACAL_BLESS=1`.
//!
//! The same comparison is meant to hold for a scan through the fault proxy with every
//! fifth request throttled (ignored for now, see the test).

use std::sync::Arc;

use caracal_aws::{Purpose, Session};
use caracal_scan::{ScanOutcome, ScanRequest, Scanner};
use caracal_store::{SqliteStore, Store};
use caracal_testkit::{Emulator, Fault, FaultProxy, Matcher, seed};
use regex::Regex;
use serde_json::Value;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/seeded_snapshots.json");

/// Generated values, most specific first: each match becomes its placeholder.
fn masks() -> Vec<(Regex, &'static str)> {
    [
        // RFC 3339 times (and Lambda's `+0000`), with or without fractions.
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})", "<time>"),
        // Automated RDS snapshots are named after their instance and creation minute.
        (r"(\brds:[a-z0-9-]+?)-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}\b", "$1-<minute>"),
        // Load balancer and listener ids in ELBv2 ARNs.
        (r"/(app|net)/([a-z0-9-]+)/[0-9a-f]{16}(/[0-9a-f]{16})?\b", "/$1/$2/<elb-id>"),
        // GuardDuty detector ids.
        (r"\b[0-9a-f]{32}\b", "<hex-id>"),
        // Certificate serial numbers.
        (r"^\d{30,}$", "<serial>"),
        // Secrets Manager's random ARN suffix.
        (r"(:secret:.+)-[A-Za-z0-9]{6}$", "$1-<suffix>"),
        // The emulator's address and port (queue URLs).
        (r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d+", "<emulator>"),
        (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<uuid>"),
        // EC2 ids: i-..., vol-..., sg-..., vpc-..., subnet-..., acl-..., eni-..., ...
        (r"\b([a-z]+)-[0-9a-f]{8,17}\b", "$1-<id>"),
        // IAM unique ids and access key ids (AIDA..., AROA..., AGPA..., ANPA..., AKIA...).
        (r"\bA[A-Z0-9]{3}[A-Z0-9]{12,}\b", "<iam-id>"),
        // The emulator's IAM unique ids (20 lower-case letters and digits).
        (r"\b[a-z0-9]{20}\b", "<iam-id>"),
        // Addresses and the DNS names made from them (CIDR blocks keep their length).
        (r"\b\d{1,3}[.-]\d{1,3}[.-]\d{1,3}[.-]\d{1,3}\b", "<ip>"),
    ]
    .into_iter()
    .map(|(re, to)| (Regex::new(re).expect("mask regex"), to))
    .collect()
}

/// Fields whose whole value the emulator generates anew on every run.
const GENERATED_FIELDS: &[&str] =
    &["Endpoint", "CreatedTimestamp", "LastModifiedTimestamp", "CreationTime"];

fn mask(v: &mut Value, masks: &[(Regex, &str)]) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if GENERATED_FIELDS.contains(&k.as_str()) && !v.is_null() {
                    *v = Value::String("<generated>".into());
                } else {
                    mask(v, masks);
                }
            }
        }
        Value::String(s) => {
            for (re, to) in masks {
                if re.is_match(s) {
                    *s = re.replace_all(s, *to).into_owned();
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| mask(i, masks)),
        _ => {}
    }
}

/// Scans into a new SQLite store; the stored documents, masked, sorted.
async fn scan(session: &Session) -> (ScanOutcome, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("caracal.db")).await.expect("sqlite"));
    let outcome = Scanner::new(Arc::clone(&store), 4)
        .scan(std::slice::from_ref(session), &ScanRequest::default(), &())
        .await
        .expect("scan");
    let masks = masks();
    let mut docs = Vec::new();
    for r in &outcome.resources {
        let stored = store.resources().get(&r.resource_id).await.expect("get").expect("stored");
        let mut doc = stored.to_json();
        mask(&mut doc, &masks);
        docs.push(serde_json::to_string(&doc).expect("json"));
    }
    docs.sort();
    (outcome, docs)
}

/// Compares with the recorded documents, or records them with `CARACAL_BLESS=1`.
fn assert_recorded(docs: &[String]) {
    if std::env::var_os("CARACAL_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&docs).expect("json");
        std::fs::write(GOLDEN, text + "\n").expect("write golden");
        return;
    }
    let golden: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(GOLDEN).expect("golden file"))
            .expect("golden JSON");
    let docs = docs.to_vec();
    let missing: Vec<&String> = golden.iter().filter(|d| !docs.contains(d)).collect();
    let extra: Vec<&String> = docs.iter().filter(|d| !golden.contains(d)).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && docs.len() == golden.len(),
        "{} documents differ from the recorded scan ({} now, {} recorded)\nrecorded, not found now:\n{}\nnow, not recorded:\n{}",
        missing.len().max(extra.len()),
        docs.len(),
        golden.len(),
        missing.iter().take(3).map(|s| s.as_str()).collect::<Vec<_>>().join("\n"),
        extra.iter().take(3).map(|s| s.as_str()).collect::<Vec<_>>().join("\n"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_snapshots_of_the_seeded_account_are_unchanged() {
    let emulator = Emulator::start().expect("emulator");
    let aws = emulator.aws().await.expect("aws");
    let session = aws.session(None, Purpose::Scan).await.expect("session");
    seed::seed_mix(&session, 1, seed::Mix::Realistic).await.expect("seed");
    let (outcome, docs) = scan(&session).await;
    assert!(outcome.report.errors.is_empty(), "{:#?}", outcome.report.errors);
    assert_recorded(&docs);
}

// #17 / #11.7: with one request in five throttled (retries included), in every protocol's
// error shape, every answer arrives in the end: no errors, the same snapshots, and every
// throttled answer counted in the scan report. Times are printed, never asserted. (With
// `retry_mode = "adaptive"` this took 30x the clean scan: the SDK's client-side limiter
// reads rate-independent throttling as "too fast" and sinks to 0.5 requests a second.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_with_a_fifth_of_its_requests_throttled_completes_unchanged() {
    let emulator = Emulator::start().expect("emulator");
    let direct = emulator.aws().await.expect("aws");
    let direct = direct.session(None, Purpose::Scan).await.expect("session");
    seed::seed_mix(&direct, 1, seed::Mix::Realistic).await.expect("seed");
    let proxy = FaultProxy::start(&emulator.endpoint()).expect("proxy");
    proxy.inject(Matcher::EveryNth(5), Fault::Throttling);
    // Ten attempts: a request whose retries all land on throttled turns is then rarer
    // than one in ten million.
    let aws = emulator.aws_at(&proxy.endpoint(), 10).await.expect("aws via proxy");
    let session = aws.session(None, Purpose::Scan).await.expect("session via proxy");

    let before = proxy.faults_served();
    let started = std::time::Instant::now();
    let (outcome, docs) = scan(&session).await;
    let seconds = started.elapsed().as_secs_f64();
    assert!(outcome.report.errors.is_empty(), "{:#?}", outcome.report.errors);
    let throttled = proxy.faults_served() - before;
    assert!(throttled > 0, "nothing was throttled");
    assert_eq!(outcome.report.throttled, throttled, "every throttled answer is counted");
    eprintln!(
        "throttled scan: {throttled} of {} requests throttled, {seconds:.1} s",
        outcome.report.requests
    );
    assert_recorded(&docs);
}
