//! The fault proxy: forwards to the emulator, and answers chosen operations with faults
//! that the production clients must treat as failed calls (#11.4).

use caracal_aws::Purpose;
use caracal_testkit::{Emulator, Fault, FaultProxy, Matcher};

#[tokio::test]
async fn requests_pass_through_until_a_fault_is_injected() {
    let emulator = Emulator::start().expect("emulator");
    let proxy = FaultProxy::start(&emulator.endpoint()).expect("proxy");
    let aws = emulator.aws_at(&proxy.endpoint(), 1).await.expect("aws");
    let session = aws.session(None, Purpose::Scan).await.expect("session through the proxy");
    let s3 = session.home().s3();
    s3.create_bucket().bucket("through-the-proxy").send().await.expect("create bucket");
    s3.put_object()
        .bucket("through-the-proxy")
        .key("k")
        .body(vec![7u8; 100_000].into())
        .send()
        .await
        .expect("put object with a body");
    let listed = s3.list_buckets().send().await.expect("list buckets");
    assert_eq!(listed.buckets().len(), 1);
    assert!(proxy.forwarded() >= 4);
    assert_eq!(proxy.faults_served(), 0);

    proxy.inject(Matcher::Action("GetCallerIdentity".into()), Fault::DropConnection);
    assert!(aws.session(None, Purpose::Scan).await.is_err(), "a dropped connection is an error");
    proxy.clear();
    assert!(aws.session(None, Purpose::Scan).await.is_ok());
    assert_eq!(proxy.faults_served(), 1);
}

// #11.4: a 200 with an empty body is not an empty listing, whatever the protocol.
#[tokio::test]
async fn an_empty_200_fails_every_listing_call() {
    let emulator = Emulator::start().expect("emulator");
    let proxy = FaultProxy::start(&emulator.endpoint()).expect("proxy");
    let aws = emulator.aws_at(&proxy.endpoint(), 1).await.expect("aws");
    let session = aws.session(None, Purpose::Scan).await.expect("session");
    let c = session.home();
    for op in ["ListKeys", "ListTables", "DescribeTrails", "DescribeConfigurationRecorders"] {
        proxy.inject(Matcher::Target(op.into()), Fault::EmptyOk);
    }
    for op in ["ListUsers", "DescribeVpcs"] {
        proxy.inject(Matcher::Action(op.into()), Fault::EmptyOk);
    }
    proxy.inject(Matcher::QueryKey("x-id=ListBuckets".into()), Fault::EmptyOk);

    let mut accepted = Vec::new();
    let mut check = |op: &str, failed: Result<(), String>| match failed {
        Err(message) => {
            assert!(!message.is_empty(), "{op}");
        }
        Ok(()) => accepted.push(op.to_owned()),
    };
    fn err(e: &(dyn std::error::Error + 'static)) -> String {
        caracal_core::error::chain(e)
    }
    check("kms:ListKeys", c.kms().list_keys().send().await.map(|_| ()).map_err(|e| err(&e)));
    check(
        "dynamodb:ListTables",
        c.dynamodb().list_tables().send().await.map(|_| ()).map_err(|e| err(&e)),
    );
    check(
        "cloudtrail:DescribeTrails",
        c.cloudtrail().describe_trails().send().await.map(|_| ()).map_err(|e| err(&e)),
    );
    check(
        "config:DescribeConfigurationRecorders",
        c.config().describe_configuration_recorders().send().await.map(|_| ()).map_err(|e| err(&e)),
    );
    check("iam:ListUsers", c.iam().list_users().send().await.map(|_| ()).map_err(|e| err(&e)));
    check(
        "ec2:DescribeVpcs",
        c.ec2().describe_vpcs().send().await.map(|_| ()).map_err(|e| err(&e)),
    );
    check("s3:ListBuckets", c.s3().list_buckets().send().await.map(|_| ()).map_err(|e| err(&e)));
    assert!(accepted.is_empty(), "read as valid answers: {accepted:?}");

    let message = err(&c.kms().list_keys().send().await.expect_err("still empty"));
    assert!(message.contains("KMS ListKeys answered HTTP 200 with an empty body"), "{message}");
    proxy.clear();
    c.kms().list_keys().send().await.expect("a real answer passes");
}
