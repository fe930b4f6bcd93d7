//! Log sources on the emulator (#19 item 4): a log bucket in a second account is read
//! through the source's role, its activity is recorded, and `sources check` names a
//! missing role, a missing bucket and a bucket the home credentials may not read.
//!
//! moto keeps each account's buckets apart only with `MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS`
//! off; its AssumeRole hands out credentials of the role's account for any role ARN
//! (existing or not), so a missing role shows through GetRole (see `sources::check`).

use std::sync::Arc;

use caracal_app::sources::{self, Health};
use caracal_app::{Context, LogOptions, LogPipeline, logs};
use caracal_aws::Purpose;
use caracal_core::Config;
use caracal_core::config::{AccountConfig, StoreBackend, StoreConfig};
use caracal_logs::{LakeConfig, LakeWriter, LocalLake};
use caracal_testkit::Emulator;

const OTHER: &str = "222222222222";

async fn context(emulator: &Emulator, dir: &std::path::Path) -> Arc<Context> {
    let aws = emulator.aws().await.expect("aws");
    let mut store = StoreConfig { backend: StoreBackend::Sqlite, ..Default::default() };
    store.sqlite.path = dir.join("caracal.db");
    let config = Config { aws: emulator.aws_config(), store, ..Config::default() };
    let opened = caracal_store::open(&config.store, None).await.expect("store");
    Arc::new(Context::from_parts(config, aws, opened))
}

fn sample() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../caracal-logs/tests/data/AWS.CloudTrail/elastic-integrations_test-console-login-json.log"
    );
    std::fs::read(path).expect("CloudTrail sample")
}

fn sources_yaml(role: bool, kms_key: &str) -> String {
    let role_line = if role {
        format!(
            "    role_arn: arn:aws:iam::{OTHER}:role/LogReader\n    external_id: caracal-test\n"
        )
    } else {
        String::new()
    };
    format!(
        r#"sources:
  - id: audit
    name: Audit account trail
    account: "{OTHER}"
    bucket: audit-logs
{role_line}    kms_key: {kms_key}
    expected_interval_minutes: 60
    prefixes:
      - prefix: AWSLogs/
        log_types: [AWS.CloudTrail]
  - id: missing-role
    bucket: audit-logs
    role_arn: arn:aws:iam::{OTHER}:role/NoSuchRole
    prefixes:
      - prefix: other/
        log_types: [AWS.CloudTrail]
  - id: missing-bucket
    bucket: no-such-log-bucket
    prefixes:
      - prefix: ""
        log_types: [AWS.CloudTrail]
  - id: without-role
    bucket: audit-logs
    prefixes:
      - prefix: plain/
        log_types: [AWS.CloudTrail]
"#
    )
}

fn pipeline(dir: &std::path::Path, yaml: &str, name: &str) -> LogPipeline {
    let path = dir.join(name);
    std::fs::write(&path, yaml).expect("sources file");
    LogPipeline::new(LogOptions { sources: Some(path), ..LogOptions::default() }).expect("pipeline")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_account_source_is_read_through_its_role_and_check_names_what_is_broken() {
    let emulator = Emulator::start_with(&[("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")])
        .expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = context(&emulator, dir.path()).await;
    let aws = ctx.aws().await.expect("aws");

    // The second account: its role, its log bucket with one CloudTrail object, its key.
    let other = AccountConfig {
        id: OTHER.into(),
        role_name: Some("LogReader".into()),
        remediation_role_name: None,
        external_id: Some("caracal-test".into()),
    };
    let other = aws.session(Some(&other), Purpose::Scan).await.expect("second account");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"caracal-test"}}}]}"#;
    let clients = other.home();
    clients
        .iam()
        .create_role()
        .role_name("LogReader")
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("role in the second account");
    let s3 = clients.s3();
    s3.create_bucket().bucket("audit-logs").send().await.expect("bucket in the second account");
    let key = "AWSLogs/222222222222/CloudTrail/us-east-1/2014/07/16/trail.json";
    s3.put_object()
        .bucket("audit-logs")
        .key(key)
        .body(sample().into())
        .send()
        .await
        .expect("object");
    let kms_key = clients.kms().create_key().send().await.expect("key");
    let kms_key = kms_key.key_metadata().map(|m| m.key_id().to_owned()).expect("key id");

    // Without the role the home account may not read the bucket: the role is what works.
    let home_only = pipeline(dir.path(), &sources_yaml(false, &kms_key), "home.yml");
    let mut lake = LakeWriter::new(LocalLake::new(dir.path().join("lake0")), LakeConfig::default());
    let err = logs::process_paths(
        &ctx,
        &home_only,
        &["s3://audit-logs/AWSLogs/".into()],
        &mut lake,
        dir.path(),
    )
    .await
    .expect_err("the home credentials cannot list the other account's bucket");
    let text = caracal_core::error::chain(&err);
    assert!(text.contains("AccessDenied"), "{text}");

    let with_role = pipeline(dir.path(), &sources_yaml(true, &kms_key), "sources.yml");
    let mut lake = LakeWriter::new(LocalLake::new(dir.path().join("lake")), LakeConfig::default());
    let report = logs::process_paths(
        &ctx,
        &with_role,
        &["s3://audit-logs/AWSLogs/".into()],
        &mut lake,
        dir.path(),
    )
    .await
    .expect("read through the role");
    assert!(report.events > 0, "{report:?}");
    let stats = &report.by_source["audit"];
    assert_eq!(stats.events, report.events);
    assert_eq!(stats.last_object.as_deref(), Some(format!("s3://audit-logs/{key}").as_str()));

    let file = with_role.sources_file().expect("load").expect("sources");
    let listed = sources::list(&ctx, &file).await.expect("list");
    let audit = &listed[0];
    assert_eq!(audit.name, "Audit account trail");
    assert_eq!(audit.activity.events_hour, report.events as i64);
    assert_eq!(audit.activity.events_day, report.events as i64);
    assert_eq!(audit.activity.errors_hour, report.errors as i64);
    assert_eq!(
        audit.activity.last_object.as_ref().map(|l| l.object.as_str()),
        Some(format!("s3://audit-logs/{key}").as_str())
    );
    assert!(!audit.silent, "it just delivered");
    assert!(listed[1].activity.last_object.is_none());

    let checked = sources::check(&ctx, &file).await.expect("check");
    let by_id = |id: &str| checked.iter().find(|s| s.id == id).expect("source");
    let audit = by_id("audit");
    assert_eq!(audit.role, Some(Health::Ok), "{audit:?}");
    assert_eq!(audit.bucket_readable, Some(Health::Ok), "{audit:?}");
    assert_eq!(audit.kms, Some(Health::Ok), "{audit:?}");
    assert!(audit.healthy());

    let failed = |h: &Option<Health>| match h {
        Some(Health::Failed(why)) => why.clone(),
        other => panic!("expected a failure, got {other:?}"),
    };
    let role = failed(&by_id("missing-role").role);
    assert!(role.contains("NoSuchRole") && role.contains("does not exist"), "{role}");
    let bucket = failed(&by_id("missing-bucket").bucket_readable);
    assert!(bucket.contains("no-such-log-bucket") && bucket.contains("does not exist"), "{bucket}");
    let denied = failed(&by_id("without-role").bucket_readable);
    assert!(denied.contains("access denied"), "{denied}");
    assert!(checked.iter().filter(|s| !s.healthy()).count() == 3);
}
