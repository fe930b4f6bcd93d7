//! End to end: `caracal remediate` plans (dry run by default), refuses without a terminal
//! or --yes, applies with --yes, and keeps an audit trail that `history` shows.

use std::process::{Command, Output};

use caracal_aws::Purpose;
use caracal_testkit::{Emulator, seed};
use serde_json::Value;

fn caracal(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_caracal"));
    cmd.args(args).stdin(std::process::Stdio::null());
    for var in ["CARACAL_CONFIG", "CARACAL_STORE", "AWS_PROFILE", "AWS_ENDPOINT_URL"] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("the binary runs")
}

#[tokio::test]
async fn plan_refuse_apply_and_history_through_the_cli() {
    let emulator = Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    let session = aws.session(None, Purpose::Scan).await.unwrap();
    seed::seed(&session, 1).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("caracal.db");
    let endpoint = emulator.endpoint();
    let env = [
        ("CARACAL_ENDPOINT_URL", endpoint.as_str()),
        ("CARACAL_DB", db.to_str().unwrap()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ];
    let target = [
        "--resource",
        "arn:aws:s3:::caracal-seed-0-plain",
        "--remediation",
        "AWS.S3.EnableBucketVersioning",
    ];
    let s3 = session.home().s3();
    let versioning = || async {
        s3.get_bucket_versioning().bucket("caracal-seed-0-plain").send().await.unwrap().status
    };

    let plan = caracal(&[&["remediate", "plan"][..], &target].concat(), &env);
    assert_eq!(
        plan.status.code(),
        Some(1),
        "changes planned: {}",
        String::from_utf8_lossy(&plan.stderr)
    );
    assert!(String::from_utf8_lossy(&plan.stdout).contains("PutBucketVersioning"));
    assert_eq!(versioning().await, None, "a plan changes nothing");

    let refused = caracal(&[&["remediate", "apply"][..], &target].concat(), &env);
    assert_eq!(refused.status.code(), Some(2), "no terminal and no --yes");
    assert_eq!(versioning().await, None, "a refused apply changes nothing");

    let applied = caracal(&[&["remediate", "apply", "--yes"][..], &target].concat(), &env);
    assert_eq!(applied.status.code(), Some(0), "{}", String::from_utf8_lossy(&applied.stderr));
    assert_eq!(versioning().await, Some(aws_sdk_s3::types::BucketVersioningStatus::Enabled));

    let again = caracal(&[&["remediate", "apply", "--yes"][..], &target].concat(), &env);
    assert_eq!(again.status.code(), Some(0), "second apply is a no-op");

    let history = caracal(&["remediate", "history", "--json"], &env);
    assert!(history.status.success(), "{}", String::from_utf8_lossy(&history.stderr));
    let records: Value = serde_json::from_slice(&history.stdout).unwrap();
    let outcomes: Vec<&str> =
        records.as_array().unwrap().iter().filter_map(|r| r["outcome"].as_str()).collect();
    for expected in ["planned", "refused", "fixed", "already_compliant"] {
        assert!(outcomes.contains(&expected), "history has {expected}: {outcomes:?}");
    }
}
