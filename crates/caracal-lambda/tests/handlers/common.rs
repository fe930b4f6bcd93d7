//! What every handler test needs: the emulator, a configuration file, and a function
//! whose context talks to the emulator with a DynamoDB store there.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use caracal_app::Context;
use caracal_lambda::{Function, FunctionSpec, Settings, SqsRecord};
use caracal_testkit::Emulator;

pub const ACCOUNT: &str = caracal_testkit::ACCOUNT_ID;

pub fn repo(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(path)
}

/// A payload fixture, with `replace` pairs applied to its text.
pub fn fixture(name: &str, replace: &[(&str, &str)]) -> serde_json::Value {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(name);
    let mut text = std::fs::read_to_string(&path).expect("fixture");
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// A rule pack that alerts on every SSM StartSession call, one alert per session.
pub fn rule_pack(dir: &Path) -> PathBuf {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("start_session.yml"),
        "AnalysisType: rule\nRuleID: Test.SSM.StartSession\nEnabled: true\n\
         Filename: start_session.py\nLogTypes: [AWS.CloudTrail]\nSeverity: Medium\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("start_session.py"),
        "def rule(event):\n    return event.get('eventName') == 'StartSession'\n",
    )
    .unwrap();
    rules
}

/// `caracal.toml` under `dir`: the bundled policies, `rules`, and the scanned types.
pub fn config_file(dir: &Path, rules: Option<&Path>, types: &[&str]) -> PathBuf {
    let rules = rules.map(|r| format!("{:?}", r.display().to_string())).unwrap_or_default();
    let types: Vec<String> = types.iter().map(|t| format!("{t:?}")).collect();
    let text = format!(
        "[policies]\npaths = [{:?}]\n\n[rules]\npaths = [{rules}]\n\n[scan]\ntypes = [{}]\n",
        repo("policies").display().to_string(),
        types.join(", ")
    );
    let path = dir.join("caracal.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The environment the template sets, pointed at the emulator.
pub fn env(emulator: &Emulator, config: &Path, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = [
        ("CARACAL_CONFIG", config.display().to_string()),
        ("CARACAL_STORE", "dynamodb".into()),
        ("CARACAL_DYNAMODB_TABLE_PREFIX", "lambda-test".into()),
        ("CARACAL_REGIONS", "us-east-1".into()),
        ("CARACAL_ALERTS_TOPIC_ARN", String::new()),
        ("CARACAL_SECRETS", String::new()),
        ("CARACAL_REMEDIATION_QUEUE_URL", String::new()),
        ("CARACAL_SOURCES", String::new()),
        ("CARACAL_ENDPOINT_URL", emulator.endpoint()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    vars
}

/// A function of `spec` over the emulator, its tables created.
pub async fn function(
    emulator: &Emulator,
    spec: &'static FunctionSpec,
    vars: &HashMap<String, String>,
) -> Function {
    let settings = Settings::from_lookup(spec, |k| vars.get(k).cloned()).expect("settings");
    let aws = emulator.aws().await.expect("aws");
    let store = caracal_app::open_store(&settings.config, Some(&aws)).await.expect("store");
    let ctx = Arc::new(Context::from_parts(settings.config.clone(), aws, store));
    Function::new(spec, settings, ctx)
}

/// The CloudTrail sample as an object CloudTrail would write (`{"Records": [...]}`), and
/// its record count.
pub fn trail_object() -> (Vec<u8>, usize) {
    let sample = std::fs::read(repo(
        "crates/caracal-logs/tests/data/AWS.CloudTrail/stratus_aws.execution.ssm-start-session.json",
    ))
    .expect("sample");
    let records = serde_json::from_slice::<serde_json::Value>(&sample)
        .ok()
        .and_then(|v| v.as_array().map(Vec::len))
        .unwrap_or_default();
    (format!("{{\"Records\":{}}}", String::from_utf8_lossy(&sample)).into_bytes(), records)
}

/// Up to ten messages waiting on `queue_url`, as the Lambda SQS event would carry them.
pub async fn receive(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<SqsRecord> {
    let received = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    received
        .messages()
        .iter()
        .map(|m| SqsRecord {
            message_id: m.message_id().unwrap_or_default().to_owned(),
            receipt_handle: m.receipt_handle().unwrap_or_default().to_owned(),
            body: m.body().unwrap_or_default().to_owned(),
        })
        .collect()
}
