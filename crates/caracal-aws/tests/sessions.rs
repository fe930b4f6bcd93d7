//! Sessions against the emulator: the credentials' own account, assumed roles, request
//! counting, and failures that name the endpoint.

use caracal_aws::{Aws, Purpose};
use caracal_core::config::{AccountConfig, AwsConfig};
use caracal_testkit::Emulator;

fn account(role: Option<&str>, remediation_role: Option<&str>) -> AccountConfig {
    AccountConfig {
        id: "111122223333".into(),
        role_name: role.map(str::to_owned),
        remediation_role_name: remediation_role.map(str::to_owned),
        external_id: Some("shared-secret".into()),
    }
}

#[tokio::test]
async fn own_account_comes_from_sts_and_requests_are_counted() {
    let emulator = Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    assert_eq!(aws.endpoint_url(), Some(emulator.endpoint().as_str()));
    assert_eq!(aws.regions(), ["us-east-1"]);
    let before = aws.requests().get();
    let session = aws.session(None, Purpose::Scan).await.unwrap();
    assert_eq!(session.account_id(), caracal_testkit::ACCOUNT_ID);
    assert_eq!(aws.requests().get(), before + 1, "one GetCallerIdentity");
    let clients = session.clients("eu-west-1");
    assert_eq!(clients.region(), "eu-west-1");
    clients.s3().list_buckets().send().await.unwrap();
    assert_eq!(aws.requests().get(), before + 2, "clients share the counter");
}

#[tokio::test]
async fn assumed_role_sessions_act_in_the_configured_account() {
    let emulator = Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    // moto's STS hands out credentials for any role and reports the role's account.
    let scan =
        aws.session(Some(&account(Some("CaracalAudit"), None)), Purpose::Scan).await.unwrap();
    assert_eq!(scan.account_id(), "111122223333");
    let fix = aws
        .session(Some(&account(Some("CaracalAudit"), Some("CaracalFix"))), Purpose::Remediate)
        .await
        .unwrap();
    assert_eq!(fix.account_id(), "111122223333");
    // The assumed credentials are the ones used: the bucket lands in the other account.
    fix.home().s3().create_bucket().bucket("in-other-account").send().await.unwrap();
    let own = aws.session(None, Purpose::Scan).await.unwrap();
    let listed = own.home().s3().list_buckets().send().await.unwrap();
    assert!(listed.buckets().is_empty(), "own account has no bucket: {listed:?}");
}

#[tokio::test]
async fn unreachable_endpoint_fails_fast_naming_it() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let settings = AwsConfig {
        regions: vec!["us-east-1".into()],
        endpoint_url: Some(endpoint.clone()),
        max_attempts: 2,
        connect_timeout_secs: 1,
        operation_timeout_secs: 5,
        ..AwsConfig::default()
    };
    let aws = Aws::builder(&settings).static_credentials("a", "b").build().await.unwrap();
    let err = aws.session(None, Purpose::Scan).await.unwrap_err().to_string();
    assert!(err.contains(&endpoint), "{err}");
    assert!(err.contains("Connection refused"), "cause kept: {err}");
    assert!(!err.contains('\n'), "one line: {err}");
}
