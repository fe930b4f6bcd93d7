//! The application layer's use cases driven directly against the emulator (moto on
//! 127.0.0.1), as `caracal serve`, the API and the Lambda handlers will call them.

use std::path::PathBuf;
use std::sync::Arc;

use caracal_app::{Context, LogOptions, LogPipeline, PolicySource, ScanScope, logs, posture};
use caracal_aws::Purpose;
use caracal_core::config::{StoreBackend, StoreConfig};
use caracal_core::{ComplianceStatus, Config};
use caracal_logs::poll::Message;
use caracal_logs::{EventSink, LakeConfig, LakeWriter, LocalLake};
use caracal_testkit::{Emulator, seed};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(path)
}

/// A context over the emulator and a fresh SQLite file.
async fn context(emulator: &Emulator, dir: &std::path::Path) -> Arc<Context> {
    let aws = emulator.aws().await.expect("aws");
    let mut store = StoreConfig { backend: StoreBackend::Sqlite, ..Default::default() };
    store.sqlite.path = dir.join("caracal.db");
    let config = Config { aws: emulator.aws_config(), store, ..Config::default() };
    let opened = caracal_store::open(&config.store, None).await.expect("store");
    Arc::new(Context::from_parts(config, aws, opened))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_and_evaluate_stores_verdicts_and_a_broken_policy_errors_instead_of_vanishing() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = context(&emulator, dir.path()).await;
    let session = ctx.aws().await.unwrap().session(None, Purpose::Scan).await.expect("session");
    let manifest = seed::seed(&session, 1).await.expect("seed");

    // The bundled pack plus one whose module cannot import (#11.3): that policy must give
    // ERROR on every bucket, not disappear from the results.
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("broken.yml"),
        "AnalysisType: policy\nPolicyID: Test.Broken\nFilename: broken.py\nEnabled: true\n\
         Severity: High\nResourceTypes:\n  - AWS.S3.Bucket\n",
    )
    .unwrap();
    std::fs::write(
        broken.join("broken.py"),
        "import caracal_no_such_module\n\ndef policy(resource):\n    return True\n",
    )
    .unwrap();
    let source = PolicySource { paths: vec![repo("policies"), broken], ..Default::default() };
    let result = posture::scan_and_evaluate(&ctx, &ScanScope::default(), Some(&source), &())
        .await
        .expect("scan and evaluate");

    assert!(result.outcome.report.errors.is_empty(), "{:?}", result.outcome.report.errors);
    assert!(result.failing(), "the seeded account fails policies");
    let evaluation = result.evaluation.as_ref().expect("evaluated");
    let open_ssh = manifest
        .security_groups
        .iter()
        .find(|g| g.open_ports.contains(&22))
        .expect("a seeded group open on 22");
    assert!(
        evaluation.findings.iter().any(|f| f.policy_id == "AWS.EC2.SecurityGroup.NoOpenSSH"
            && f.resource_id.contains(&open_ssh.id)
            && f.status == ComplianceStatus::Fail),
        "the open SSH group fails"
    );
    let broken_verdicts: Vec<_> =
        evaluation.findings.iter().filter(|f| f.policy_id == "Test.Broken").collect();
    let buckets = result
        .outcome
        .resources
        .iter()
        .filter(|r| r.resource_type.as_str() == "AWS.S3.Bucket")
        .count();
    assert!(buckets >= manifest.buckets.len());
    assert_eq!(broken_verdicts.len(), buckets, "one verdict per bucket");
    assert!(broken_verdicts.iter().all(|f| matches!(&f.status,
        ComplianceStatus::Error(m) if m.contains("caracal_no_such_module"))));
    assert!(evaluation.invalid.iter().any(|i| i.message.contains("caracal_no_such_module")));

    // Stored, and re-evaluating one resource from the store gives the same verdicts.
    let bucket = format!("arn:aws:s3:::{}", manifest.buckets[0].name);
    let store = ctx.store().await.unwrap();
    let stored = store.compliance().for_resource(&bucket).await.expect("compliance");
    assert!(stored.iter().any(|f| f.policy_id == "Test.Broken"), "{stored:?}");
    let (again, missing) = posture::evaluate_ids(
        &ctx,
        &[bucket.clone(), "arn:aws:s3:::caracal-not-there".into()],
        &source,
    )
    .await
    .expect("evaluate ids");
    assert_eq!(missing, vec!["arn:aws:s3:::caracal-not-there".to_owned()]);
    let mut before: Vec<_> =
        stored.iter().map(|f| (f.policy_id.clone(), f.status.as_str().to_owned())).collect();
    let mut after: Vec<_> = again
        .findings
        .iter()
        .map(|f| (f.policy_id.clone(), f.status.as_str().to_owned()))
        .collect();
    before.sort();
    after.sort();
    assert_eq!(before, after);
}

fn notification(bucket: &str, key: &str) -> String {
    serde_json::json!({"Records": [{
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key}}
    }]})
    .to_string()
}

fn message(id: &str, body: String) -> Message {
    Message { id: id.into(), receipt: format!("receipt-{id}"), body }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_batch_fails_only_the_messages_that_cannot_finish() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = context(&emulator, dir.path()).await;
    let s3 = ctx.home_clients().await.expect("clients").s3();
    s3.create_bucket().bucket("logs").send().await.expect("bucket");
    let sample = std::fs::read(repo(
        "crates/caracal-logs/tests/data/AWS.CloudTrail/stratus_aws.execution.ssm-start-session.json",
    ))
    .expect("sample");
    let events = serde_json::from_slice::<serde_json::Value>(&sample)
        .expect("json")
        .as_array()
        .map(Vec::len)
        .unwrap_or_default() as u64;
    let body = format!("{{\"Records\":{}}}", String::from_utf8_lossy(&sample));
    s3.put_object()
        .bucket("logs")
        .key("AWSLogs/trail.json")
        .body(body.into_bytes().into())
        .send()
        .await
        .expect("put");

    let pipeline =
        LogPipeline::new(LogOptions { source_id: "test".into(), ..LogOptions::default() })
            .expect("pipeline");
    let lake_dir = dir.path().join("lake");
    let mut lake = LakeWriter::new(LocalLake::new(&lake_dir), LakeConfig::default());
    let batch = [
        message("good", notification("logs", "AWSLogs/trail.json")),
        message("junk", "this is not a notification".into()),
        message("missing", notification("logs", "AWSLogs/not-yet.json")),
    ];
    let outcome =
        logs::process_batch(&ctx, &pipeline, &batch, &mut lake as &mut (dyn EventSink + Send))
            .await
            .expect("batch");

    assert_eq!(outcome.done, vec!["good".to_owned()]);
    assert_eq!(outcome.report.events, events, "every record of the good object");
    assert_eq!(outcome.report.errors, 0);
    let failed: Vec<_> = outcome.failed.iter().map(|f| (f.id.as_str(), f.retryable)).collect();
    assert_eq!(failed, vec![("junk", false), ("missing", true)]);
    let parquet = walk(&lake_dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .count();
    assert!(parquet > 0, "the good object's events are in the lake");
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// #15.10: policies in the public style on the seeded account give no ERROR: resource
/// lookups through `panther_aws_helpers` read caracal's store, and credential-report
/// times parse with the format public policies use (`%Y-%m-%dT%H:%M:%SZ`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_style_policies_give_no_error_on_the_seeded_account() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = context(&emulator, dir.path()).await;
    let session = ctx.aws().await.unwrap().session(None, Purpose::Scan).await.expect("session");
    seed::seed(&session, 1).await.expect("seed");
    let pack = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/public_style");
    let source = PolicySource { paths: vec![pack], ..Default::default() };
    let result = posture::scan_and_evaluate(&ctx, &ScanScope::default(), Some(&source), &())
        .await
        .expect("scan and evaluate");
    let evaluation = result.evaluation.as_ref().expect("evaluated");
    assert!(evaluation.invalid.is_empty(), "{:?}", evaluation.invalid);
    let errors: Vec<_> = evaluation
        .findings
        .iter()
        .filter(|f| matches!(f.status, ComplianceStatus::Error(_)))
        .map(|f| (f.policy_id.clone(), f.resource_id.clone(), f.status.clone()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    for policy in ["PublicStyle.S3.Lookups", "PublicStyle.IAM.CredentialAge"] {
        let passed = evaluation
            .findings
            .iter()
            .filter(|f| f.policy_id == policy && f.status == ComplianceStatus::Pass)
            .count();
        assert!(passed > 0, "{policy} passed nowhere: {:?}", evaluation.findings);
    }
}
