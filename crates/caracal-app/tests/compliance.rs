//! Compliance over time against the emulator (#16): transitions stored per scan, policy
//! alerts delivered and resolved, and automatic remediation with its circuit breaker.

use std::path::Path;
use std::sync::Arc;

use caracal_app::{Context, PolicySource, ScanScope, auto_remediate, posture};
use caracal_aws::Purpose;
use caracal_core::config::{DestinationConfig, RemediationConfig, Secret, StoreBackend};
use caracal_core::{AlertKind, AlertStatus, AuditOutcome, ComplianceStatus, Config};
use caracal_scan::ScanRequest;
use caracal_store::{AuditFilter, TransitionQuery};
use caracal_testkit::{Emulator, Receiver};

const POLICY: &str = "Test.S3.Versioning";

/// A pack of one policy: buckets must have versioning on; `extra` adds spec lines.
fn pack(dir: &Path, extra: &str) -> PolicySource {
    let folder = dir.join("pack");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("versioning.yml"),
        format!(
            "AnalysisType: policy\nPolicyID: {POLICY}\nFilename: versioning.py\nEnabled: true\n\
             Severity: Medium\nDisplayName: Bucket versioning\nResourceTypes: [AWS.S3.Bucket]\n{extra}"
        ),
    )
    .unwrap();
    std::fs::write(
        folder.join("versioning.py"),
        "def policy(resource):\n    return resource.get('Versioning') == 'Enabled'\n",
    )
    .unwrap();
    PolicySource { paths: vec![folder], ..Default::default() }
}

/// A context over the emulator and a fresh SQLite file, with `configure` applied.
async fn context(
    emulator: &Emulator,
    dir: &Path,
    configure: impl FnOnce(&mut Config),
) -> Arc<Context> {
    let aws = emulator.aws().await.expect("aws");
    let mut config = Config { aws: emulator.aws_config(), ..Config::default() };
    config.store.backend = StoreBackend::Sqlite;
    config.store.sqlite.path = dir.join("caracal.db");
    configure(&mut config);
    let opened = caracal_store::open(&config.store, None).await.expect("store");
    Arc::new(Context::from_parts(config, aws, opened))
}

fn buckets_only() -> ScanScope {
    ScanScope {
        request: ScanRequest { types: vec!["AWS.S3.Bucket".into()], ..Default::default() },
        ..Default::default()
    }
}

async fn create_buckets(ctx: &Context, names: &[String], versioned: bool) {
    let session = ctx.aws().await.unwrap().session(None, Purpose::Scan).await.expect("session");
    let s3 = session.home().s3();
    for name in names {
        s3.create_bucket().bucket(name).send().await.expect("create bucket");
        if versioned {
            set_versioning(ctx, name).await;
        }
    }
}

async fn set_versioning(ctx: &Context, name: &str) {
    let session = ctx.aws().await.unwrap().session(None, Purpose::Scan).await.expect("session");
    let config = aws_sdk_s3::types::VersioningConfiguration::builder()
        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
        .build();
    session
        .home()
        .s3()
        .put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(config)
        .send()
        .await
        .expect("versioning");
}

async fn versioned(ctx: &Context, name: &str) -> bool {
    let session = ctx.aws().await.unwrap().session(None, Purpose::Scan).await.expect("session");
    let out = session.home().s3().get_bucket_versioning().bucket(name).send().await.expect("get");
    out.status == Some(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
}

fn arn(name: &str) -> String {
    format!("arn:aws:s3:::{name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_scans_store_transitions_and_a_failure_alerts_once_then_resolves() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await.unwrap();
    let ctx = context(&emulator, dir.path(), |config| {
        let mut hook = DestinationConfig::new("hook", "webhook");
        hook.url = Some(Secret::new(receiver.url("/hook")));
        config.destinations.push(hook);
    })
    .await;
    let source = pack(dir.path(), "");
    let (open, fixed) = ("tr-open".to_owned(), "tr-fixed".to_owned());
    create_buckets(&ctx, std::slice::from_ref(&open), false).await;
    create_buckets(&ctx, std::slice::from_ref(&fixed), true).await;

    let first =
        posture::scan_and_evaluate(&ctx, &buckets_only(), Some(&source), &()).await.unwrap();
    let evaluation = first.evaluation.as_ref().unwrap();
    let steps: Vec<(String, String)> =
        evaluation.transitions.iter().map(|t| (t.resource_id.clone(), t.describe())).collect();
    assert!(steps.contains(&(arn(&open), "NEW → FAIL".into())), "{steps:?}");
    assert!(steps.contains(&(arn(&fixed), "NEW → PASS".into())), "{steps:?}");
    assert_eq!(evaluation.alerts.opened.len(), 1, "one alert for the one failing bucket");
    let alert_id = evaluation.alerts.opened[0].clone();
    let received = receiver.received();
    assert_eq!(received.len(), 1, "delivered once");
    assert_eq!(received[0].json()["action"], "trigger", "{}", received[0].json());
    // Auto-remediation is off by default: nothing was changed, nothing audited.
    assert!(evaluation.remediation.is_none());
    assert!(!versioned(&ctx, &open).await);

    // The same account again: no transition, no second alert.
    let again =
        posture::scan_and_evaluate(&ctx, &buckets_only(), Some(&source), &()).await.unwrap();
    let again = again.evaluation.unwrap();
    assert!(again.transitions.is_empty(), "{:?}", again.transitions);
    assert!(again.alerts.opened.is_empty());
    assert_eq!(receiver.received().len(), 1);

    // Fix one bucket, delete the other; the next scan records both and resolves the alert.
    set_versioning(&ctx, &open).await;
    let session = ctx.aws().await.unwrap().session(None, Purpose::Scan).await.unwrap();
    session.home().s3().delete_bucket().bucket(&fixed).send().await.expect("delete");
    let third =
        posture::scan_and_evaluate(&ctx, &buckets_only(), Some(&source), &()).await.unwrap();
    let third_eval = third.evaluation.as_ref().unwrap();
    assert_eq!(third_eval.alerts.resolved, vec![alert_id.clone()]);
    let store = ctx.store().await.unwrap();
    let alert = store.alerts().get(&alert_id).await.unwrap().expect("alert");
    assert_eq!((alert.kind, alert.status), (AlertKind::Policy, AlertStatus::Resolved));
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].json()["action"], "resolve", "{}", received[1].json());

    let history =
        |id: &str| TransitionQuery { resource_id: Some(arn(id)), ..TransitionQuery::recent(10) };
    let open_steps = store.compliance().transitions(&history(&open)).await.unwrap();
    let described: Vec<String> = open_steps.iter().map(|t| t.describe()).collect();
    assert_eq!(described, ["FAIL → PASS", "NEW → FAIL"]);
    assert_eq!(open_steps[0].scan_id.as_deref(), Some(third.scan_id.as_str()));
    assert_eq!(open_steps[1].scan_id.as_deref(), Some(first.scan_id.as_str()));
    assert!(open_steps.iter().all(|t| t.snapshot.as_deref().is_some_and(|s| s.len() == 16)));
    let gone = store.compliance().transitions(&history(&fixed)).await.unwrap();
    assert_eq!(gone[0].describe(), "PASS → DELETED");
    let finding = store.compliance().get(&arn(&open), POLICY).await.unwrap().expect("finding");
    assert_eq!(finding.status, ComplianceStatus::Pass);
    assert_eq!(finding.first_seen, Some(open_steps[0].at), "first seen: when it started passing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_remediation_fixes_re_evaluates_and_stops_at_the_circuit_breaker() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await.unwrap();
    let ctx = context(&emulator, dir.path(), |config| {
        config.remediation =
            RemediationConfig { auto: true, max_resources: 10, ..Default::default() };
        let mut hook = DestinationConfig::new("hook", "webhook");
        hook.url = Some(Secret::new(receiver.url("/hook")));
        config.destinations.push(hook);
    })
    .await;
    let source = pack(dir.path(), "AutoRemediationID: AWS.S3.EnableBucketVersioning\n");
    let names: Vec<String> = (0..30).map(|i| format!("auto-{i:02}")).collect();
    create_buckets(&ctx, &names, false).await;
    // A denied tag keeps one more failing bucket out of every automatic fix.
    let kept = "auto-kept".to_owned();
    create_buckets(&ctx, std::slice::from_ref(&kept), false).await;
    let session = ctx.aws().await.unwrap().session(None, Purpose::Scan).await.unwrap();
    let tag =
        aws_sdk_s3::types::Tag::builder().key("caracal:no-remediate").value("").build().unwrap();
    session
        .home()
        .s3()
        .put_bucket_tagging()
        .bucket(&kept)
        .tagging(aws_sdk_s3::types::Tagging::builder().tag_set(tag).build().unwrap())
        .send()
        .await
        .expect("tag");

    let result =
        posture::scan_and_evaluate(&ctx, &buckets_only(), Some(&source), &()).await.unwrap();
    let evaluation = result.evaluation.unwrap();
    let report = evaluation.remediation.as_ref().expect("auto-remediation ran");
    assert_eq!(report.count(AuditOutcome::Fixed), 10, "{report:#?}");
    assert_eq!(report.count(AuditOutcome::Refused), 20, "{report:#?}");
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert!(report.skipped[0].starts_with(&arn(&kept)));
    assert_eq!(report.tripped.len(), 1);
    let breaker = report.tripped[0].alert_id.clone().expect("breaker alert");

    // The ten fixed buckets are versioned in AWS and PASS in the store; the rest FAIL.
    let store = ctx.store().await.unwrap();
    let mut fixed = 0;
    for name in &names {
        let status = store.compliance().get(&arn(name), POLICY).await.unwrap().unwrap().status;
        if versioned(&ctx, name).await {
            fixed += 1;
            assert_eq!(status, ComplianceStatus::Pass, "{name} fixed but not re-evaluated");
        } else {
            assert_eq!(status, ComplianceStatus::Fail, "{name}");
        }
    }
    assert_eq!(fixed, 10);
    assert!(!versioned(&ctx, &kept).await);
    // Each attempt is audited with the policy as the actor; the breaker's refusals too.
    let audit = store.audit().list(&AuditFilter::recent(100)).await.unwrap();
    let by_policy = audit.iter().filter(|r| r.actor == format!("policy:{POLICY}"));
    let outcomes: Vec<AuditOutcome> = by_policy.map(|r| r.outcome).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == AuditOutcome::Fixed).count(), 10);
    assert_eq!(outcomes.iter().filter(|o| **o == AuditOutcome::Refused).count(), 20);
    // The breaker raised an alert, delivered to the receiver.
    let alert = store.alerts().get(&breaker).await.unwrap().expect("breaker alert stored");
    assert!(alert.title.contains("stopped"), "{}", alert.title);
    assert!(
        receiver.received().iter().any(|r| r.json().to_string().contains("stopped")),
        "breaker alert delivered"
    );
    // Fixed resources resolved their policy alerts.
    assert_eq!(evaluation.alerts.resolved.len(), 10);

    // By hand, for one policy: the same breaker, the person as the actor.
    let actor = caracal_app::Actor::Cli("alice".into());
    let (by_hand, again) = auto_remediate::fix_failing(&ctx, &source, POLICY, actor).await.unwrap();
    assert_eq!(by_hand.count(AuditOutcome::Fixed), 10, "{by_hand:#?}");
    assert_eq!(by_hand.count(AuditOutcome::Refused), 10, "20 eligible, limit 10");
    assert_eq!(by_hand.tripped.len(), 1);
    assert!(by_hand.attempts.iter().all(|a| a.policy_id == POLICY));
    let again = again.expect("re-evaluated");
    assert_eq!(again.findings.iter().filter(|f| f.status == ComplianceStatus::Pass).count(), 10);
}
