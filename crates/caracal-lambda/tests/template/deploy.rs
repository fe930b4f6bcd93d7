//! `infra/caracal.yaml` on the emulator's CloudFormation: it deploys, its tables have
//! the store's key layout, and they pass the store's conformance suite.

use std::process::Command;
use std::sync::Arc;

use aws_sdk_dynamodb::types::TableDescription;
use caracal_core::config::{StoreBackend, StoreConfig};
use caracal_store::Store;
use caracal_testkit::Emulator;
use serde_json::Value;

use crate::repo;

/// Resource types of the template that the emulator's CloudFormation skips (moto 5.2:
/// "not supported by moto's CloudFormation implementation"); infra/README.md lists them.
pub const EMULATOR_SKIPS: &[&str] = &[
    "AWS::ApiGatewayV2::Api",
    "AWS::CloudWatch::Alarm",
    "AWS::Glue::Database",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
];

/// The table suffixes of one prefix, as the store names them.
const TABLES: &[&str] = &[
    "resources",
    "history",
    "compliance",
    "transitions",
    "alerts",
    "alert-windows",
    "audit",
    "kv",
];

/// Deploys the main template with `prefix`; the stack's description as the script prints it.
fn deploy(emulator: &Emulator, prefix: &str) -> Value {
    let out = Command::new(caracal_testkit::venv_dir().join("bin/python"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/deploy_stack.py"))
        .arg(emulator.endpoint())
        .arg(repo("infra/caracal.yaml"))
        .arg(format!("{prefix}-stack"))
        .arg(format!("Prefix={prefix}"))
        .arg("ImageUri=123456789012.dkr.ecr.us-east-1.amazonaws.com/caracal:test")
        .output()
        .expect("deploy script runs");
    assert!(out.status.success(), "deploy: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("deploy prints JSON")
}

#[test]
fn the_template_deploys_on_the_emulator_skipping_only_the_listed_types() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let stack = deploy(&emulator, "caracal");
    assert_eq!(stack["status"], "CREATE_COMPLETE", "{stack:#}");
    let skipped: Vec<&str> =
        stack["unsupported"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(
        skipped, EMULATOR_SKIPS,
        "what the emulator skipped changed: update infra/README.md"
    );
    let created = |t: &str| {
        stack["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] == t && r["status"] == "CREATE_COMPLETE")
            .count()
    };
    assert_eq!(created("AWS::DynamoDB::Table"), TABLES.len());
    assert_eq!(created("AWS::Lambda::Function"), caracal_lambda::FUNCTIONS.len());
    assert_eq!(created("AWS::SQS::Queue"), 8, "four queues and their dead-letter queues");
    assert_eq!(created("AWS::Lambda::EventSourceMapping"), 4);
    assert_eq!(created("AWS::IAM::Role"), 3);
}

/// What must agree between two tables: keys, attribute types, indexes, billing, TTL.
fn shape(table: &TableDescription, ttl: Option<String>) -> Value {
    let keys = |k: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Vec<String> {
        k.iter().map(|e| format!("{}:{}", e.attribute_name(), e.key_type().as_str())).collect()
    };
    let mut attributes: Vec<String> = table
        .attribute_definitions()
        .iter()
        .map(|a| format!("{}:{}", a.attribute_name(), a.attribute_type().as_str()))
        .collect();
    attributes.sort();
    let mut indexes: Vec<Value> = table
        .global_secondary_indexes()
        .iter()
        .map(|i| {
            serde_json::json!({
                "name": i.index_name(),
                "keys": keys(i.key_schema()),
                "projection": i.projection().and_then(|p| p.projection_type()).map(|p| p.as_str().to_owned()),
            })
        })
        .collect();
    indexes.sort_by_key(|v| v["name"].to_string());
    serde_json::json!({
        "keys": keys(table.key_schema()),
        "attributes": attributes,
        "indexes": indexes,
        "billing": table.billing_mode_summary().and_then(|b| b.billing_mode()).map(|b| b.as_str().to_owned()),
        "ttl": ttl,
    })
}

/// The TTL attribute the template declares for the table `<Prefix>-{suffix}`: moto's
/// CloudFormation does not apply `TimeToLiveSpecification`, so the deployed table
/// cannot show it.
fn declared_ttl(suffix: &str) -> Option<String> {
    let template = crate::template("caracal.yaml");
    let resources = template.get("Resources")?.as_mapping()?;
    let want = format!("${{Prefix}}-{suffix}");
    let table = resources.values().find(|r| match crate::at(r, &["Properties", "TableName"]) {
        Some(serde_norway::Value::Tagged(tagged)) => tagged.value.as_str() == Some(want.as_str()),
        _ => false,
    })?;
    let spec = crate::at(table, &["Properties", "TimeToLiveSpecification"])?;
    (spec.get("Enabled").and_then(serde_norway::Value::as_bool) == Some(true))
        .then(|| spec.get("AttributeName").and_then(serde_norway::Value::as_str).map(str::to_owned))
        .flatten()
}

/// The shapes of a prefix's tables; `ttl_from_template` reads the TTL from the template
/// text instead of the deployed table.
async fn shapes(
    client: &aws_sdk_dynamodb::Client,
    prefix: &str,
    ttl_from_template: bool,
) -> Vec<Value> {
    let mut out = Vec::new();
    for t in TABLES {
        let name = format!("{prefix}-{t}");
        let described = client.describe_table().table_name(&name).send().await.expect("describe");
        if ttl_from_template {
            out.push(shape(described.table().expect("table"), declared_ttl(t)));
            continue;
        }
        let ttl = client
            .describe_time_to_live()
            .table_name(&name)
            .send()
            .await
            .expect("describe ttl")
            .time_to_live_description
            .filter(|d| d.time_to_live_status().is_some_and(|s| s.as_str() == "ENABLED"))
            .and_then(|d| d.attribute_name);
        out.push(shape(described.table().expect("table"), ttl));
    }
    out
}

fn store_config(prefix: &str) -> StoreConfig {
    let mut config = StoreConfig { backend: StoreBackend::Dynamodb, ..Default::default() };
    config.dynamodb.table_prefix = prefix.into();
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_tables_have_the_stores_key_layout() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let stack = deploy(&emulator, "tmpl");
    assert_eq!(stack["status"], "CREATE_COMPLETE", "{stack:#}");
    let aws = emulator.aws().await.unwrap();
    let client = aws_sdk_dynamodb::Client::new(aws.sdk_config());
    let store = caracal_store::open(&store_config("code"), Some(client.clone())).await.unwrap();
    store.create_tables().await.expect("the store creates its own tables");
    let from_template = shapes(&client, "tmpl", true).await;
    let from_code = shapes(&client, "code", false).await;
    for ((t, a), b) in TABLES.iter().zip(&from_template).zip(&from_code) {
        assert_eq!(a, b, "{t}: template (left) vs the store's CreateTable (right)");
    }
}

/// A store over tables the template created (the store creates nothing), and the
/// emulator that holds them.
async fn deployed_store() -> (Arc<dyn Store>, Emulator) {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let stack = deploy(&emulator, "conformance");
    assert_eq!(stack["status"], "CREATE_COMPLETE", "{stack:#}");
    let aws = emulator.aws().await.unwrap();
    let client = aws_sdk_dynamodb::Client::new(aws.sdk_config());
    let store = caracal_store::open(&store_config("conformance"), Some(client)).await.unwrap();
    (store, emulator)
}

#[path = "../../../caracal-store/tests/stores/conformance.rs"]
#[allow(dead_code)]
#[macro_use]
mod conformance;

/// Every case of the store's conformance suite on freshly deployed tables.
macro_rules! conformance_on_deployed_tables {
    ($($case:ident),+ $(,)?) => {
        mod conformance_on_deployed_tables {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let (store, _emulator) = super::deployed_store().await;
                    super::conformance::$case(store.as_ref()).await;
                }
            )+
        }
    };
}

with_every_case!(conformance_on_deployed_tables);
