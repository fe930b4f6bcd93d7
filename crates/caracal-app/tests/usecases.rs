//! The application layer's use cases driven directly against the emulator (moto on
//! 127.0.0.1), as `caracal serve`, the API and the Lambda handlers will call them.

use std::path::PathBuf;
use std::sync::Arc;

use caracal_app::{
    Context, LogOptions, LogPipeline, PolicySource, ScanScope, events, logs, posture,
};
use caracal_aws::Purpose;
use caracal_core::config::{StoreBackend, StoreConfig};
use caracal_core::{ComplianceStatus, Config};
use caracal_logs::poll::Message;
use caracal_logs::{EventSink, LakeConfig, LakeWriter, LocalLake};
use caracal_telemetry::Counters;
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

/// The seeded emulator account, scanned into a fresh SQLite file with the bundled
/// policies evaluated.
async fn scanned(
    emulator: &Emulator,
    dir: &std::path::Path,
) -> (Arc<Context>, caracal_aws::Session, caracal_testkit::Manifest, PolicySource) {
    let ctx = context(emulator, dir).await;
    let session = ctx.aws().await.unwrap().session(None, Purpose::Scan).await.expect("session");
    let manifest = seed::seed(&session, 1).await.expect("seed");
    let source = PolicySource { paths: vec![repo("policies")], ..Default::default() };
    posture::scan_and_evaluate(&ctx, &ScanScope::default(), Some(&source), &())
        .await
        .expect("scan and evaluate");
    (ctx, session, manifest, source)
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
    // The run's internal events counted what it did (this test's process has its own).
    let counters = Counters::global();
    assert_eq!(counters.get(&events::SCANS, &["ok"]), 1);
    assert!(counters.get(&events::POLICY_VERDICTS, &["error"]) >= buckets as u64);
    assert!(counters.get(&events::POLICY_VERDICTS, &["fail"]) > 0);
    let seen = counters.get(&caracal_scan::events::SCAN_RESOURCES, &["AWS.S3.Bucket", "seen"]);
    assert_eq!(seen, buckets as u64);

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
    let counters = Counters::global();
    assert_eq!(counters.get(&events::QUEUE_MESSAGES, &["logs", "done"]), 1);
    assert_eq!(counters.get(&events::QUEUE_MESSAGES, &["logs", "kept"]), 2);
    assert_eq!(counters.get(&caracal_logs::events::LOG_OBJECTS, &["test"]), 1);
    assert_eq!(counters.get(&caracal_logs::events::LOG_EVENTS, &["AWS.CloudTrail"]), events);
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

/// One CloudTrail `AuthorizeSecurityGroupIngress` record (0.0.0.0/0 on 22) for `arn`.
fn ingress_record(arn: &str, time: &str, id: &str) -> serde_json::Value {
    // arn:aws:ec2:<region>:<account>:security-group/<id>
    let parts: Vec<&str> = arn.split(':').collect();
    let group = arn.rsplit('/').next().unwrap();
    serde_json::json!({
        "eventVersion": "1.08", "eventTime": time, "eventSource": "ec2.amazonaws.com",
        "eventName": "AuthorizeSecurityGroupIngress", "awsRegion": parts[3],
        "recipientAccountId": parts[4], "eventID": id, "eventType": "AwsApiCall",
        "sourceIPAddress": "203.0.113.9",
        "userIdentity": {"type": "IAMUser", "userName": "dev", "accountId": parts[4]},
        "requestParameters": {"groupId": group, "ipPermissions": {"items": [{
            "ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
            "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posture_join_rule_fires_only_where_the_scanned_store_says_the_resource_fails() {
    // #12.7: rules join the real store the scanner filled: the bundled
    // IngressOnFailingSecurityGroup alerts for the seeded group open on SSH (failing
    // NoOpenSSH) and not for the seeded web group (passing), both changed the same way;
    // `resource_at` answers from the history at the event's time.
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().expect("tempdir");
    let (ctx, _, manifest, _) = scanned(&emulator, dir.path()).await;
    let store = ctx.store().await.unwrap();
    let groups = store
        .resources()
        .list(
            &caracal_store::ResourceFilter {
                resource_type: Some("AWS.EC2.SecurityGroup".into()),
                ..Default::default()
            },
            &caracal_store::PageRequest::first(1000),
        )
        .await
        .expect("groups")
        .items;
    let arn_of = |id: &str| {
        groups
            .iter()
            .find(|r| r.resource.resource_id.ends_with(id))
            .expect("scanned")
            .resource
            .resource_id
            .clone()
    };
    let open = manifest.security_groups.iter().find(|g| g.open_ports.contains(&22)).unwrap();
    let web = manifest.security_groups.iter().find(|g| g.open_ports.is_empty()).unwrap();
    let (open_arn, web_arn) = (arn_of(&open.id), arn_of(&web.id));
    let verdicts = store.compliance().for_resource(&open_arn).await.expect("verdicts");
    assert!(
        verdicts.iter().any(|f| f.policy_id == "AWS.EC2.SecurityGroup.NoOpenSSH"
            && f.status == ComplianceStatus::Fail),
        "{open_arn}: {verdicts:?}"
    );

    // A rule of our own reads the group as it was at the event's time.
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("at.yml"),
        "AnalysisType: rule\nRuleID: Test.ResourceAt\nFilename: at.py\nEnabled: true\n\
         LogTypes:\n  - AWS.CloudTrail\nSeverity: Info\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("at.py"),
        "from caracal_posture import BadLookup, resource_at\n\n\
         def arn(e):\n    return 'arn:aws:ec2:%s:%s:security-group/%s' % (e.get('awsRegion'), e.get('recipientAccountId'), e.deep_get('requestParameters', 'groupId'))\n\n\
         def rule(e):\n    try:\n        return bool(resource_at(arn(e), e.get('p_event_time')).get('IpPermissions') is not None)\n    except BadLookup:\n        return False\n\n\
         def dedup(e):\n    return e.get('eventID')\n",
    )
    .unwrap();

    // Events now (after the scan) for both groups, and one from 2001, before any scan.
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let records = vec![
        ingress_record(&open_arn, &now, "open-now"),
        ingress_record(&web_arn, &now, "web-now"),
        ingress_record(&open_arn, "2001-01-01T00:00:00Z", "open-2001"),
    ];
    let trail = dir.path().join("trail.json");
    std::fs::write(&trail, serde_json::json!({"Records": records}).to_string()).unwrap();
    let rule_source =
        caracal_detect::RuleSource { paths: vec![repo("rules"), rules], ..Default::default() };
    let pipeline = LogPipeline::new(LogOptions {
        source_id: "test".into(),
        rules: Some(rule_source),
        ..LogOptions::default()
    })
    .expect("pipeline");
    let mut outputs = pipeline.open(&ctx).await.expect("outputs");
    logs::process_paths(
        &ctx,
        &pipeline,
        &[trail.display().to_string()],
        &mut outputs,
        &dir.path().join("rescue"),
    )
    .await
    .expect("processed");

    // The scan also raises one policy alert per failing resource: read them all.
    let alerts = store.alerts().list_recent(10_000).await.expect("alerts");
    let joined: Vec<_> = alerts
        .iter()
        .filter(|a| a.rule_id == "AWS.CloudTrail.IngressOnFailingSecurityGroup")
        .collect();
    assert_eq!(joined.len(), 1, "one group fails, one passes: {alerts:#?}");
    assert_eq!(joined[0].dedup, open.id);
    assert_eq!(joined[0].event_count, 2, "both events on the failing group");
    assert!(
        joined[0].context["failing_policies"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p == "AWS.EC2.SecurityGroup.NoOpenSSH")),
        "{:#?}",
        joined[0].context
    );
    // The plain rule (no join) alerts for both: the join is what told them apart.
    assert!(
        alerts
            .iter()
            .any(|a| a.rule_id == "AWS.CloudTrail.SecurityGroupOpenedToWorld" && a.dedup == web.id)
    );
    let at: Vec<&str> = alerts
        .iter()
        .filter(|a| a.rule_id == "Test.ResourceAt")
        .map(|a| a.dedup.as_str())
        .collect();
    assert!(at.contains(&"open-now") && at.contains(&"web-now"), "{at:?}");
    assert!(!at.contains(&"open-2001"), "no snapshot was in force in 2001: {at:?}");
    assert!(alerts.iter().all(|a| a.kind != caracal_core::AlertKind::RuleError), "{alerts:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudtrail_write_events_rescan_and_re_evaluate_just_the_changed_resource() {
    // #13.4: the web group passes at the full scan; then SSH is opened on it behind the
    // store's back. Ten CloudTrail records of that change, processed as logs, cause one
    // rescan of that group, and its stored verdict turns FAIL without a full scan.
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().expect("tempdir");
    let (ctx, session, manifest, source) = scanned(&emulator, dir.path()).await;
    let store = ctx.store().await.unwrap().clone();
    let web = manifest.security_groups.iter().find(|g| g.open_ports.is_empty()).unwrap();
    let arn = format!(
        "arn:aws:ec2:{}:{}:security-group/{}",
        manifest.region, manifest.account_id, web.id
    );
    let ssh = |store: Arc<dyn caracal_store::Store>, arn: String| async move {
        store
            .compliance()
            .get(&arn, "AWS.EC2.SecurityGroup.NoOpenSSH")
            .await
            .expect("compliance")
            .map(|f| f.status)
    };
    assert_eq!(ssh(store.clone(), arn.clone()).await, Some(ComplianceStatus::Pass));

    use aws_sdk_ec2::types::{IpPermission, IpRange};
    session
        .clients(&manifest.region)
        .ec2()
        .authorize_security_group_ingress()
        .group_id(&web.id)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .expect("open SSH behind the store's back");
    assert_eq!(ssh(store.clone(), arn.clone()).await, Some(ComplianceStatus::Pass), "stale");

    let records: Vec<_> = (0..10)
        .map(|i| ingress_record(&arn, &format!("2026-01-01T00:00:{i:02}Z"), &format!("e{i}")))
        .collect();
    let trail = dir.path().join("trail.json");
    std::fs::write(&trail, serde_json::json!({"Records": records}).to_string()).unwrap();
    let pipeline =
        LogPipeline::new(LogOptions { source_id: "test".into(), ..LogOptions::default() })
            .expect("pipeline");
    let mut outputs = pipeline.open(&ctx).await.expect("outputs");
    let queue = Arc::new(caracal_app::changes::RescanQueue::new(std::time::Duration::ZERO));
    outputs.watch_changes(queue.clone());
    logs::process_paths(&ctx, &pipeline, &[trail.display().to_string()], &mut outputs, dir.path())
        .await
        .expect("processed");
    assert_eq!(queue.len(), 1, "ten events, one pending rescan");
    caracal_app::changes::run_due(&ctx, &queue, Some(&source)).await;

    let stats = queue.stats();
    assert_eq!((stats.events, stats.rescans, stats.failed), (10, 1, 0), "{stats:?}");
    assert_eq!(ssh(store.clone(), arn.clone()).await, Some(ComplianceStatus::Fail));
    // The other groups were not touched: the open group's verdict is the scan's.
    let history = store.resources().history(&arn).await.expect("history");
    assert_eq!(history.len(), 2, "created by the scan, modified by the rescan: {history:#?}");
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
