//! The executor's safety rails: re-check before acting, refusals of bad input, AWS
//! failures, the circuit breaker, each leaving an audit record and no half-done change.

mod common;

use std::sync::Arc;

use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use caracal_aws::Aws;
use caracal_core::AuditOutcome;
use caracal_core::config::{AccountConfig, AwsConfig};
use caracal_remediate::{Error, Executor};
use caracal_store::{AuditFilter, SqliteStore, Store};
use common::{ACCOUNT, Harness, bucket_arn, request};
use serde_json::json;

const BLOCK: &str = "AWS.S3.BlockBucketPublicAccess";

fn partial_block() -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration::builder().block_public_acls(true).build()
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_refuses_when_the_resource_changed_since_the_plan() {
    let h = Harness::start().await;
    let s3 = h.clients().s3();
    let bucket = "caracal-seed-0-plain";
    let req = h.request(&bucket_arn(bucket), BLOCK, &[]);
    let plan = h.exec.plan(&req).await.unwrap();

    // Someone changes the bucket (still failing) after the plan was approved.
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(partial_block())
        .send()
        .await
        .unwrap();
    let err = h.exec.apply(&req, &plan).await.unwrap_err();
    assert!(matches!(err, Error::ChangedSincePlan { .. }), "{err}");
    assert!(err.to_string().contains("plan again"), "{err}");
    let record = h.last_audit(&bucket_arn(bucket), BLOCK).await;
    assert_eq!(record.outcome, AuditOutcome::Refused);
    assert_eq!(record.error.as_deref(), Some(err.to_string().as_str()));
    // Nothing was applied: the partial block is as the other person left it.
    let pab = s3.get_public_access_block().bucket(bucket).send().await.unwrap();
    assert_eq!(pab.public_access_block_configuration.unwrap().block_public_policy, Some(false));

    // A new plan from the new state applies.
    let plan = h.exec.plan(&req).await.unwrap();
    assert_eq!(h.exec.apply(&req, &plan).await.unwrap().outcome, AuditOutcome::Fixed);
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_is_a_no_op_when_the_resource_was_fixed_since_the_plan() {
    let h = Harness::start().await;
    let bucket = "caracal-seed-0-public-acl";
    let req = h.request(&bucket_arn(bucket), "AWS.S3.EnableBucketVersioning", &[]);
    let plan = h.exec.plan(&req).await.unwrap();
    assert!(!plan.is_noop());
    // Someone else fixes it first.
    h.exec.run(&req).await.unwrap();
    let report = h.exec.apply(&req, &plan).await.unwrap();
    assert_eq!(report.outcome, AuditOutcome::AlreadyCompliant);
    assert_eq!(report.before, report.after);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_before_any_call_and_audited() {
    let h = Harness::start().await;
    let bucket = bucket_arn("caracal-seed-0-plain");
    let sg = h.manifest.security_groups[0].id.clone();
    let sg_arn = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{sg}");
    let cases = [
        (request(&bucket, "AWS.S3.MakeItSafe", &[]), "unknown remediation \"AWS.S3.MakeItSafe\""),
        (request(&sg_arn, BLOCK, &[]), "fixes AWS.S3.Bucket resources, but"),
        (
            request(&sg_arn, "AWS.EC2.RevokeWorldAdminIngress", &[("ports", json!([22, 70000]))]),
            "bad parameter ports: 70000 is not a port",
        ),
        (
            request(&sg_arn, "AWS.EC2.RevokeWorldAdminIngress", &[("ports", json!("ssh"))]),
            "bad parameter ports: \"ssh\" is not a valid integer_list",
        ),
        (
            request(&bucket, BLOCK, &[("force", json!(true))]),
            "bad parameter force: unknown parameter",
        ),
        (
            request(
                &bucket,
                "AWS.S3.EnableBucketDefaultEncryption",
                &[("algorithm", json!("ROT13"))],
            ),
            "bad parameter algorithm: \"ROT13\" is not AES256 or aws:kms",
        ),
        (
            request(&bucket, "AWS.S3.EnableBucketAccessLogging", &[]),
            "bad parameter target_bucket: required",
        ),
        (request("arn:aws:sqs:us-east-1:1:q", BLOCK, &[]), "cannot tell what"),
    ];
    for (req, expected) in cases {
        let err = h.exec.plan(&req).await.unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
        assert_eq!(err.outcome(), AuditOutcome::Refused);
        let record = h.last_audit(&req.resource_id, &req.remediation_id).await;
        assert_eq!(record.outcome, AuditOutcome::Refused);
        assert_eq!(record.error, Some(err.to_string()));
        assert_eq!(record.parameters, json!(req.parameters));
    }
    // Refusals made no AWS change: the security group still has its world rules.
    let group = h.clients().ec2().describe_security_groups().group_ids(&sg).send().await.unwrap();
    assert!(!group.security_groups.unwrap()[0].ip_permissions().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_resource_fails_with_the_aws_error_and_is_audited() {
    let h = Harness::start().await;
    let ghost = bucket_arn("caracal-no-such-bucket");
    let err = h.exec.plan(&h.request(&ghost, BLOCK, &[])).await.unwrap_err();
    assert!(matches!(&err, Error::Aws { code: Some(c), .. } if c == "NoSuchBucket"), "{err}");
    let record = h.last_audit(&ghost, BLOCK).await;
    assert_eq!(record.outcome, AuditOutcome::Failed);
    assert!(record.error.unwrap().contains("NoSuchBucket"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_aws_endpoint_fails_clearly_and_is_audited() {
    // A closed 127.0.0.1 port stands in for AWS refusing us: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let settings = AwsConfig {
        regions: vec!["us-east-1".into()],
        endpoint_url: Some(format!("http://127.0.0.1:{port}")),
        max_attempts: 1,
        connect_timeout_secs: 2,
        operation_timeout_secs: 5,
        ..AwsConfig::default()
    };
    let aws =
        Aws::builder(&settings).static_credentials("testing", "testing").build().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("c.db")).await.unwrap());
    // A configured account without roles: no STS call, straight to the service.
    let account = AccountConfig {
        id: ACCOUNT.into(),
        role_name: None,
        remediation_role_name: None,
        external_id: None,
    };
    let exec = Executor::new(aws, vec![account], store.clone());
    let table = format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t");
    let req = request(&table, "AWS.DynamoDB.EnablePointInTimeRecovery", &[]);
    let err = exec.run(&req).await.unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("dynamodb:DescribeContinuousBackups on arn:aws:dynamodb"), "{text}");
    assert!(text.to_lowercase().contains("connect"), "names the transport failure: {text}");
    let records = store.audit().list(&AuditFilter::recent(10)).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, AuditOutcome::Failed);
    assert_eq!(records[0].error.as_deref(), Some(text.as_str()));

    // A resource in an account that is not configured is refused before any call.
    let other = "arn:aws:dynamodb:us-east-1:999999999999:table/t";
    let err =
        exec.run(&request(other, "AWS.DynamoDB.EnablePointInTimeRecovery", &[])).await.unwrap_err();
    assert!(matches!(err, Error::UnknownAccount { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn circuit_breaker_refuses_an_oversized_bulk_run_before_any_call() {
    let h = Harness::start().await;
    let exec = Executor::new(h.aws.clone(), vec![], h.store.clone()).with_max_resources(2);
    let buckets =
        ["caracal-seed-0-plain", "caracal-seed-0-public-acl", "caracal-seed-0-public-policy"];
    let reqs: Vec<_> = buckets.iter().map(|b| request(&bucket_arn(b), BLOCK, &[])).collect();
    let err = exec.run_bulk(&reqs).await.unwrap_err();
    assert!(matches!(err, Error::TooManyResources { count: 3, max: 2 }), "{err}");
    for b in buckets {
        assert_eq!(h.last_audit(&bucket_arn(b), BLOCK).await.outcome, AuditOutcome::Refused);
        let pab = h.clients().s3().get_public_access_block().bucket(b).send().await;
        assert!(pab.is_err(), "{b} was changed");
    }
    // Within the limit each request runs and reports on its own.
    let results = exec.run_bulk(&reqs[..2]).await.unwrap();
    assert!(results.iter().all(|r| matches!(r, Ok(rep) if rep.outcome == AuditOutcome::Fixed)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_for_another_resource_or_parameters_is_not_applied() {
    let h = Harness::start().await;
    let plain = bucket_arn("caracal-seed-0-plain");
    let other = bucket_arn("caracal-seed-0-public-acl");
    let plan = h.exec.plan(&h.request(&plain, BLOCK, &[])).await.unwrap();
    let err = h.exec.apply(&h.request(&other, BLOCK, &[]), &plan).await.unwrap_err();
    assert!(matches!(err, Error::PlanMismatch { .. }), "{err}");
    let enc = "AWS.S3.EnableBucketDefaultEncryption";
    let plan = h.exec.plan(&h.request(&plain, enc, &[])).await.unwrap();
    let kms = h.request(&plain, enc, &[("algorithm", json!("aws:kms"))]);
    let err = h.exec.apply(&kms, &plan).await.unwrap_err();
    assert!(matches!(err, Error::PlanMismatch { .. }), "{err}");
    assert_eq!(h.last_audit(&plain, enc).await.outcome, AuditOutcome::Refused);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scanned_resource_is_rescanned_into_the_store_after_the_fix() {
    let h = Harness::start().await;
    let bucket = "caracal-seed-0-plain";
    // A stale stored snapshot, as a scan left it.
    let stale =
        caracal_core::Resource::new(bucket_arn(bucket), "AWS.S3.Bucket", ACCOUNT, "us-east-1")
            .with("PublicAccessBlockConfiguration", serde_json::Value::Null);
    h.store.resources().put_batch(&[stale], chrono::Utc::now()).await.unwrap();
    let report = h.exec.run(&h.request(&bucket_arn(bucket), BLOCK, &[])).await.unwrap();
    assert_eq!(report.outcome, AuditOutcome::Fixed);
    let snapshot = report.snapshot.expect("rescanned");
    assert_eq!(snapshot.attributes["PublicAccessBlockConfiguration"]["BlockPublicAcls"], true);
    let stored = h.store.resources().get(&bucket_arn(bucket)).await.unwrap().unwrap();
    assert_eq!(stored, snapshot);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_account_is_remediated_through_its_remediation_role() {
    let h = Harness::start().await;
    // moto's STS lets any role be assumed; the session resolves the account through it,
    // so a broken assume-role would fail here before any remediation call.
    let account = AccountConfig {
        id: ACCOUNT.into(),
        role_name: Some("CaracalAudit".into()),
        remediation_role_name: Some("CaracalFix".into()),
        external_id: None,
    };
    let exec = Executor::new(h.aws.clone(), vec![account], h.store.clone());
    let bucket = bucket_arn("caracal-seed-0-plain");
    let report = exec.run(&request(&bucket, "AWS.S3.EnableBucketVersioning", &[])).await.unwrap();
    assert_eq!(report.outcome, AuditOutcome::Fixed);
    assert_eq!(report.plan.target.account_id, ACCOUNT);
}

/// #11.9: the intent is audited before the first call, and a call whose answer never
/// came back is settled by reading the resource again, not by guessing.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_is_settled_by_re_reading_and_the_intent_is_audited_first() {
    use caracal_testkit::{Fault, FaultProxy, Matcher};
    let h = Harness::start().await;
    let proxy = FaultProxy::start(&h.emulator.endpoint()).unwrap();
    // Five attempts allowed, yet a remediation session must not repeat an unanswered
    // write itself: only an answered throttle is retried (caracal-aws `throttle.rs`).
    let aws = h.emulator.aws_at(&proxy.endpoint(), 5).await.unwrap();
    let exec = Executor::new(aws, vec![], h.store.clone());
    let table = format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/seed-0-table");
    let pitr = "AWS.DynamoDB.EnablePointInTimeRecovery";
    let req = request(&table, pitr, &[]);
    let records = |store: Arc<dyn Store>| async move {
        store.audit().list(&AuditFilter::recent(20)).await.unwrap()
    };

    // The request never reaches AWS: the re-read shows nothing changed → failed.
    proxy.inject(Matcher::Target("UpdateContinuousBackups".into()), Fault::DropConnection);
    let err = exec.run(&req).await.unwrap_err();
    assert!(matches!(&err, Error::Aws { code: None, .. }), "{err}");
    let audit = records(h.store.clone()).await;
    let (failed, intent) = (&audit[0], &audit[1]);
    assert_eq!((failed.outcome, intent.outcome), (AuditOutcome::Failed, AuditOutcome::Applying));
    assert_eq!(failed.intent.as_deref(), Some(intent.id.as_str()));

    // The change lands but its answer is lost: the re-read verifies it → fixed.
    proxy.clear();
    proxy.inject(Matcher::Target("UpdateContinuousBackups".into()), Fault::LoseResponse);
    let report = exec.run(&req).await.unwrap();
    assert_eq!(report.outcome, AuditOutcome::Fixed);
    let audit = records(h.store.clone()).await;
    let (fixed, intent) = (&audit[0], &audit[1]);
    assert_eq!((fixed.outcome, intent.outcome), (AuditOutcome::Fixed, AuditOutcome::Applying));
    assert_eq!(fixed.intent.as_deref(), Some(intent.id.as_str()));
    assert!(fixed.error.as_deref().is_some_and(|e| e.contains("verified")), "{fixed:?}");
    assert_eq!(proxy.faults_served(), 2, "each write was sent once");
    let backups = h
        .clients()
        .dynamodb()
        .describe_continuous_backups()
        .table_name("seed-0-table")
        .send()
        .await
        .unwrap();
    let status = backups
        .continuous_backups_description
        .and_then(|d| d.point_in_time_recovery_description)
        .and_then(|p| p.point_in_time_recovery_status);
    assert_eq!(status, Some(aws_sdk_dynamodb::types::PointInTimeRecoveryStatus::Enabled));

    // A server error may hide a landed write: not retried, settled by re-reading.
    use aws_sdk_dynamodb::types::{AttributeDefinition, KeySchemaElement, KeyType};
    h.clients()
        .dynamodb()
        .create_table()
        .table_name("retry-table")
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let fresh =
        request(&format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/retry-table"), pitr, &[]);
    proxy.clear();
    let served = proxy.faults_served();
    proxy.inject(Matcher::Target("UpdateContinuousBackups".into()), Fault::ServerError);
    let err = exec.run(&fresh).await.unwrap_err();
    assert_eq!(proxy.faults_served() - served, 1, "a 500 on a write is not retried: {err}");
    assert_eq!(records(h.store.clone()).await[0].outcome, AuditOutcome::Failed);

    // An answered throttle proves the write was refused unprocessed: retried, and it lands.
    proxy.clear();
    let served = proxy.faults_served();
    proxy.inject_times(Matcher::Target("UpdateContinuousBackups".into()), Fault::Throttling, 2);
    let report = exec.run(&fresh).await.unwrap();
    assert_eq!(report.outcome, AuditOutcome::Fixed);
    assert_eq!(proxy.faults_served() - served, 2, "both throttles were retried");
}
