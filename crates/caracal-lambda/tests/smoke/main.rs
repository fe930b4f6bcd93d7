//! Runs the real `caracal-log-processor` binary against a fake Lambda Runtime API on
//! 127.0.0.1 and the emulator, end to end: the runtime hands it an SQS batch of S3
//! notifications, it reads the objects from S3, writes Parquet to the lake bucket and
//! answers `batchItemFailures`; then an event it cannot read, answered as an error.

mod runtime_api;

use std::process::{Command, Stdio};
use std::time::Duration;

use caracal_testkit::Emulator;
use runtime_api::{Answer, RuntimeApi};

/// Kills the function process when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn fixture(name: &str) -> serde_json::Value {
    let path =
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_processor_binary_serves_the_runtime_api_end_to_end() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let aws = emulator.aws().await.expect("aws");
    let s3 = aws_sdk_s3::Client::new(aws.sdk_config());
    for bucket in ["caracal-test-logs", "caracal-smoke-lake"] {
        s3.create_bucket().bucket(bucket).send().await.expect("bucket");
    }
    let sample = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../caracal-logs/tests/data/AWS.CloudTrail/stratus_aws.execution.ssm-start-session.json"
    ))
    .expect("sample");
    let object = format!("{{\"Records\":{}}}", String::from_utf8_lossy(&sample));
    for key in ["plain.json", "via-sns.json"] {
        s3.put_object()
            .bucket("caracal-test-logs")
            .key(format!("AWSLogs/123456789012/CloudTrail/us-east-1/2026/12/07/{key}"))
            .body(object.clone().into_bytes().into())
            .send()
            .await
            .expect("put");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("caracal.toml");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).expect("rules");
    std::fs::write(
        rules.join("start_session.yml"),
        "AnalysisType: rule\nRuleID: Smoke.StartSession\nEnabled: true\n\
         Filename: start_session.py\nLogTypes: [AWS.CloudTrail]\nSeverity: Low\n",
    )
    .expect("rule");
    std::fs::write(
        rules.join("start_session.py"),
        "def rule(event):\n    return event.get('eventName') == 'StartSession'\n",
    )
    .expect("rule");
    std::fs::write(&config, format!("[rules]\npaths = [{:?}]\n", rules.display().to_string()))
        .expect("config");

    let runtime = RuntimeApi::start(vec![
        ("req-batch".into(), fixture("sqs_s3_notifications.json")),
        ("req-bad".into(), serde_json::json!({"Records": "not a list"})),
    ]);
    let log = std::fs::File::create(dir.path().join("function.log")).expect("log");
    let child = Command::new(env!("CARGO_BIN_EXE_caracal-log-processor"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("AWS_LAMBDA_RUNTIME_API", runtime.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "caracal-log-processor")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/caracal-log-processor")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/07/[$LATEST]smoke")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("CARACAL_CONFIG", &config)
        .env("CARACAL_STORE", "dynamodb")
        .env("CARACAL_DYNAMODB_TABLE_PREFIX", "smoke")
        .env("CARACAL_REGIONS", "us-east-1")
        .env("CARACAL_ALERTS_TOPIC_ARN", "")
        .env("CARACAL_SECRETS", "")
        .env("CARACAL_LAKE", "s3://caracal-smoke-lake/events")
        .env("CARACAL_SOURCES", "")
        .env("CARACAL_ENDPOINT_URL", emulator.endpoint())
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("the function binary starts");
    let _child = Child(child);
    let function_log =
        || std::fs::read_to_string(dir.path().join("function.log")).unwrap_or_default();

    // A generous bound so a broken binary fails the test instead of hanging it; nothing
    // is asserted about how long the answer takes.
    let wait = Duration::from_secs(300);
    let first =
        runtime.answer(wait).unwrap_or_else(|| panic!("no answer; log:\n{}", function_log()));
    assert_eq!(
        first,
        Answer::Response {
            id: "req-batch".into(),
            body: serde_json::json!({"batchItemFailures": [{"itemIdentifier": "5f1b8a2e-0003-4c1e-9a7e-missing"}]}),
        },
        "log:\n{}",
        function_log()
    );
    let second =
        runtime.answer(wait).unwrap_or_else(|| panic!("no answer; log:\n{}", function_log()));
    let Answer::Error { id, body, .. } = &second else { panic!("expected an error: {second:?}") };
    assert_eq!(id, "req-bad");
    assert!(
        body.to_string().contains("Records") || body.to_string().contains("invalid type"),
        "{body}"
    );

    let listed = s3
        .list_objects_v2()
        .bucket("caracal-smoke-lake")
        .prefix("events/")
        .send()
        .await
        .expect("list lake");
    assert!(
        listed.contents().iter().filter_map(|o| o.key()).any(|k| k.ends_with(".parquet")),
        "the function wrote Parquet to the lake: {listed:?}"
    );
    let alerts = aws_sdk_dynamodb::Client::new(aws.sdk_config())
        .scan()
        .table_name("smoke-alerts")
        .send()
        .await
        .expect("the function created and wrote the alerts table");
    assert!(alerts.count() > 0, "the rule's alert is in DynamoDB");
}
