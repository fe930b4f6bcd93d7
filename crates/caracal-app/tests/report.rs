//! Reports of the seeded, emulated account (moto on 127.0.0.1): OCSF validated against
//! the published OCSF schema, ASFF imported into the emulator's Security Hub in batches
//! (moto 5.2.5 implements BatchImportFindings and GetFindings), and a fixed resource's
//! finding re-imported as archived and resolved.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use caracal_app::report::{self, Destination, Format, ReportData};
use caracal_app::{Context, PolicySource, ScanScope, posture};
use caracal_aws::Purpose;
use caracal_core::Config;
use caracal_core::config::{StoreBackend, StoreConfig};
use caracal_testkit::{Emulator, seed};
use serde_json::Value;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(path)
}

fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ocsf"))
}

/// The project venv's Python (scripts/setup makes it; it carries `jsonschema`).
fn venv_python() -> PathBuf {
    let venv = std::env::var_os("CARACAL_VENV").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/caracal/venv")
    });
    venv.join("bin/python")
}

/// The seeded account scanned into a fresh SQLite file, the bundled policies evaluated.
async fn scanned(
    emulator: &Emulator,
    dir: &std::path::Path,
) -> (Arc<Context>, caracal_aws::Session, caracal_testkit::Manifest, PolicySource) {
    let aws = emulator.aws().await.expect("aws");
    let mut store = StoreConfig { backend: StoreBackend::Sqlite, ..Default::default() };
    store.sqlite.path = dir.join("caracal.db");
    let config = Config { aws: emulator.aws_config(), store, ..Config::default() };
    let opened = caracal_store::open(&config.store, None).await.expect("store");
    let ctx = Arc::new(Context::from_parts(config, aws, opened));
    let session = ctx.aws().await.unwrap().session(None, Purpose::Scan).await.expect("session");
    let manifest = seed::seed(&session, 1).await.expect("seed");
    let source = PolicySource { paths: vec![repo("policies")], ..Default::default() };
    posture::scan_and_evaluate(&ctx, &ScanScope::default(), Some(&source), &())
        .await
        .expect("scan and evaluate");
    (ctx, session, manifest, source)
}

/// Runs the validator on `records` (JSON Lines); returns (success, output).
fn validate(records: &std::path::Path) -> (bool, String) {
    let out = Command::new(venv_python())
        .arg(data_dir().join("validate_ocsf.py"))
        .arg(data_dir().join("compliance_finding-1.5.0-cloud.schema.json"))
        .arg(records)
        .output()
        .expect("the venv's python runs (run scripts/setup first)");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocsf_of_the_seeded_account_validates_against_the_ocsf_schema() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().expect("tempdir");
    let (ctx, _session, _manifest, source) = scanned(&emulator, dir.path()).await;
    let data = report::load(&ctx, &source).await.expect("report data");
    let statuses: std::collections::BTreeSet<&str> =
        data.findings.iter().map(|f| f.status.as_str()).collect();
    assert_eq!(statuses.len(), 2, "the seeded account passes and fails: {statuses:?}");

    let mut out = Vec::new();
    let dest = Destination { region: "us-east-1".into(), account_id: None };
    report::write_findings(Format::Ocsf, &data, &dest, &mut out).expect("ocsf");
    let records = dir.path().join("findings.ocsf.jsonl");
    std::fs::write(&records, &out).unwrap();
    let (ok, text) = validate(&records);
    assert!(ok, "OCSF output validates:\n{text}");
    assert!(text.contains(&format!("{} valid, 0 invalid", data.findings.len())), "{text}");

    // The validator does reject what the schema forbids: a record without its class, with
    // an unknown member and a string where an integer belongs.
    let first = String::from_utf8(out).unwrap();
    let mut bad: Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    bad.as_object_mut().unwrap().remove("class_uid");
    bad["caracal_extra"] = Value::from(1);
    bad["severity_id"] = Value::from("high");
    let broken = dir.path().join("broken.ocsf.jsonl");
    std::fs::write(&broken, format!("{bad}\n")).unwrap();
    let (ok, text) = validate(&broken);
    assert!(!ok, "{text}");
    for needle in ["'class_uid' is a required property", "caracal_extra", "severity_id"] {
        assert!(text.contains(needle), "names {needle}: {text}");
    }
}

/// Every finding caracal imported, by id, as the emulator's Security Hub returns them.
async fn hub_findings(client: &aws_sdk_securityhub::Client) -> Vec<Value> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .get_findings()
            .max_results(100)
            .set_next_token(token)
            .send()
            .await
            .expect("GetFindings");
        for f in page.findings() {
            out.push(serde_json::json!({
                "Id": f.id(),
                "GeneratorId": f.generator_id(),
                "RecordState": f.record_state().map(|s| s.as_str()),
                "Workflow": f.workflow().and_then(|w| w.status()).map(|s| s.as_str()),
                "Compliance": f.compliance().and_then(|c| c.status()).map(|s| s.as_str()),
                "Resource": f.resources().first().and_then(|r| r.id()),
            }));
        }
        token = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
        if token.is_none() {
            return out;
        }
    }
}

/// GetFindings answers deserialize into the SDK's very large finding type, whose debug
/// build overflows a test thread's 2 MiB stack: this test runs on a 16 MiB thread.
#[test]
fn asff_lands_in_security_hub_in_batches_and_a_fixed_resource_is_archived() {
    let test = std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(asff_round_trip())
        })
        .expect("test thread");
    if let Err(panic) = test.join() {
        std::panic::resume_unwind(panic);
    }
}

async fn asff_round_trip() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().expect("tempdir");
    let (ctx, session, manifest, source) = scanned(&emulator, dir.path()).await;
    let hub = session.home().securityhub();
    let dest = Destination { region: session.home().region().to_owned(), account_id: None };

    let data = report::load(&ctx, &source).await.expect("report data");
    let records = report::asff::records(&data, &dest);
    let imported = report::securityhub::import(&hub, &records).await.expect("import");
    assert_eq!(imported.failed, vec![], "nothing refused");
    assert_eq!(imported.imported, records.len());
    assert_eq!(imported.batches, records.len().div_ceil(report::securityhub::BATCH_SIZE));
    eprintln!("{} findings imported in {} batches", imported.imported, imported.batches);
    let landed = hub_findings(&hub).await;
    assert_eq!(landed.len(), records.len(), "every finding is in Security Hub once");

    let plain = manifest.buckets.iter().find(|b| b.name.ends_with("-plain")).expect("plain");
    let bucket_arn = format!("arn:aws:s3:::{}", plain.name);
    let state = |landed: &[Value]| {
        landed
            .iter()
            .find(|f| {
                f["GeneratorId"] == "AWS.S3.Bucket.Versioning" && f["Resource"] == *bucket_arn
            })
            .map(|f| (f["Compliance"].clone(), f["RecordState"].clone(), f["Workflow"].clone()))
            .expect("the plain bucket's versioning finding")
    };
    assert_eq!(state(&landed), ("FAILED".into(), "ACTIVE".into(), "NEW".into()));

    // Fix the bucket, scan again, re-import: the same finding is now archived.
    session
        .home()
        .s3()
        .put_bucket_versioning()
        .bucket(&plain.name)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("enable versioning");
    posture::scan_and_evaluate(&ctx, &ScanScope::default(), Some(&source), &())
        .await
        .expect("second scan");
    let data: ReportData = report::load(&ctx, &source).await.expect("report data");
    let records = report::asff::records(&data, &dest);
    // The seeded account gives fewer than 100 findings: re-import in batches of 7 so the
    // batching shows (the batch size is the only difference from `import`).
    let again = report::securityhub::import_in_batches(&hub, &records, 7).await.expect("re-import");
    assert_eq!((again.imported, again.failed.len()), (records.len(), 0));
    assert_eq!(again.batches, records.len().div_ceil(7));
    assert!(again.batches > 1);
    let landed = hub_findings(&hub).await;
    assert_eq!(landed.len(), records.len(), "updated in place, not duplicated");
    assert_eq!(state(&landed), ("PASSED".into(), "ARCHIVED".into(), "RESOLVED".into()));
}
