//! A real AccessDenied: moto enforces IAM policies once `INITIAL_NO_AUTH_ACTION_COUNT`
//! requests have been served. Set-up makes a bucket and a user that may read S3 but not
//! change it; the remediation then runs with that user's keys.

mod common;

use std::sync::Arc;

use caracal_aws::{Aws, Purpose};
use caracal_core::AuditOutcome;
use caracal_core::config::AccountConfig;
use caracal_remediate::{Error, Executor};
use caracal_store::{AuditFilter, SqliteStore, Store};
use caracal_testkit::Emulator;
use common::{ACCOUNT, bucket_arn, request};

const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#;

#[tokio::test(flavor = "multi_thread")]
async fn access_denied_from_aws_is_reported_audited_and_changes_nothing() {
    // The four set-up requests below run unauthenticated; every later one is checked.
    let emulator = Emulator::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "4")]).unwrap();
    let admin = emulator.aws().await.unwrap();
    let account = AccountConfig {
        id: ACCOUNT.into(),
        role_name: None,
        remediation_role_name: None,
        external_id: None,
    };
    let clients = admin.session(Some(&account), Purpose::Remediate).await.unwrap().home();
    clients.s3().create_bucket().bucket("denied-bucket").send().await.unwrap();
    clients.iam().create_user().user_name("reader").send().await.unwrap();
    let key = clients.iam().create_access_key().user_name("reader").send().await.unwrap();
    let key = key.access_key.unwrap();
    clients
        .iam()
        .put_user_policy()
        .user_name("reader")
        .policy_name("read-only")
        .policy_document(READ_ONLY)
        .send()
        .await
        .unwrap();

    let reader = Aws::builder(&emulator.aws_config())
        .static_credentials(&key.access_key_id, &key.secret_access_key)
        .region(common::REGION)
        .build()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("c.db")).await.unwrap());
    let exec = Executor::new(reader, vec![account], store.clone());
    let bucket = bucket_arn("denied-bucket");
    let req = request(&bucket, "AWS.S3.BlockBucketPublicAccess", &[]);

    let plan = exec.plan(&req).await.expect("reading is allowed");
    let err = exec.apply(&req, &plan).await.unwrap_err();
    assert!(
        matches!(&err, Error::Aws { code: Some(code), operation, .. }
            if code == "AccessDenied" && operation == "s3:PutPublicAccessBlock"),
        "{err}"
    );
    let records = store.audit().list(&AuditFilter::recent(1)).await.unwrap();
    assert_eq!(records[0].outcome, AuditOutcome::Failed);
    assert_eq!(records[0].plan["completed_calls"], 0);
    assert!(records[0].error.as_deref().unwrap().contains("AccessDenied"));

    // Nothing changed: still no public access block (read with the reader's keys).
    let still = exec.plan(&req).await.unwrap();
    assert!(!still.is_noop());
}
