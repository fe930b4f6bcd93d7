//! The handlers called directly with real payload fixtures (`tests/fixtures/`), against
//! the emulator (moto on 127.0.0.1): S3, SQS and DynamoDB are the real SDK paths.

mod common;

use caracal_lambda::functions::{
    API, CHANGE_EVENTS, LOG_PROCESSOR, REMEDIATOR, SCAN_SCHEDULER, SCANNER,
};
use caracal_lambda::handlers::{
    api, change_events, log_processor, remediator, scan_scheduler, scanner,
};
use std::sync::Arc;

use caracal_app::Context;
use caracal_lambda::dispatch::SqsDispatch;
use caracal_lambda::{Function, Settings, SqsEvent, SqsRecord};
use caracal_testkit::Emulator;
use common::*;

const LOGS: &str = "caracal-test-logs";
const PREFIX: &str = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/12/07/";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_processor_writes_the_lake_and_alerts_and_fails_only_the_missing_object() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().unwrap();
    let rules = rule_pack(dir.path());
    let config = config_file(dir.path(), Some(&rules), &[]);
    let aws = emulator.aws().await.unwrap();
    let s3 = aws_sdk_s3::Client::new(aws.sdk_config());
    for bucket in [LOGS, "caracal-test-lake"] {
        s3.create_bucket().bucket(bucket).send().await.expect("bucket");
    }
    let (object, records) = trail_object();
    for key in ["plain.json", "via-sns.json"] {
        s3.put_object()
            .bucket(LOGS)
            .key(format!("{PREFIX}{key}"))
            .body(object.clone().into())
            .send()
            .await
            .expect("put");
    }
    let vars = env(&emulator, &config, &[("CARACAL_LAKE", "s3://caracal-test-lake/events")]);
    let function = function(&emulator, &LOG_PROCESSOR, &vars).await;

    let event: SqsEvent =
        serde_json::from_value(fixture("sqs_s3_notifications.json", &[])).expect("SQS event");
    let response = log_processor::handle(&function, event).await.expect("handled");

    // Exactly the message naming the object never written is returned to the queue.
    assert_eq!(response.failed_ids(), ["5f1b8a2e-0003-4c1e-9a7e-missing"]);
    let answer = serde_json::to_value(&response).unwrap();
    assert_eq!(
        answer,
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": "5f1b8a2e-0003-4c1e-9a7e-missing"}]})
    );

    // Both objects' events are Parquet in the lake bucket, under the lake prefix.
    let listed = s3
        .list_objects_v2()
        .bucket("caracal-test-lake")
        .prefix("events/")
        .send()
        .await
        .expect("list lake");
    let parquet: Vec<&str> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .filter(|k| k.ends_with(".parquet"))
        .collect();
    assert!(!parquet.is_empty(), "no Parquet in the lake: {listed:?}");
    assert!(
        parquet.iter().any(|k| k.contains("AWS.CloudTrail") || k.contains("aws_cloudtrail")),
        "{parquet:?}"
    );
    assert!(records > 0);

    // The rule's alerts are in the DynamoDB alerts table.
    let filter = caracal_app::alerts::AlertFilter { limit: 100, ..Default::default() };
    let alerts = caracal_app::alerts::list(function.ctx(), &filter).await.expect("alerts");
    assert!(alerts.iter().any(|a| a.rule_id == "Test.SSM.StartSession"), "{alerts:?}");
    let items = aws_sdk_dynamodb::Client::new(aws.sdk_config())
        .scan()
        .table_name("lambda-test-alerts")
        .send()
        .await
        .expect("scan alerts table");
    assert!(items.count() > 0, "no item in lambda-test-alerts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_fans_out_and_the_scanner_scans_each_target() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), None, &["AWS.IAM.User", "AWS.S3.Bucket"]);
    let aws = emulator.aws().await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(aws.sdk_config());
    let queue = sqs.create_queue().queue_name("caracal-scan").send().await.expect("queue");
    let queue_url = queue.queue_url().expect("url").to_owned();
    let s3 = aws_sdk_s3::Client::new(aws.sdk_config());
    s3.create_bucket().bucket("caracal-test-scanned").send().await.expect("bucket");
    let vars = env(&emulator, &config, &[("CARACAL_SCAN_QUEUE_URL", &queue_url)]);

    let scheduler = function(&emulator, &SCAN_SCHEDULER, &vars).await;
    let scheduled = scan_scheduler::handle(&scheduler, fixture("eventbridge_scheduled.json", &[]))
        .await
        .expect("scheduled");
    // One global target (IAM) and one per region (S3) for the one account.
    assert_eq!(scheduled.targets, 2);
    let mut records = receive(&sqs, &queue_url).await;
    assert_eq!(records.len(), 2);
    let mut regions: Vec<serde_json::Value> = records
        .iter()
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.body).expect("json body"))
        .map(|b| serde_json::json!([b["account_id"], b["region"], b["types"]]))
        .collect();
    regions.sort_by_key(|v| v.to_string());
    assert_eq!(
        regions,
        [
            serde_json::json!([ACCOUNT, "global", ["AWS.IAM.User"]]),
            serde_json::json!([ACCOUNT, "us-east-1", ["AWS.S3.Bucket"]]),
        ]
    );

    // The scanner takes the same messages, plus one that is no target.
    records.push(SqsRecord {
        message_id: "not-a-target".into(),
        receipt_handle: String::new(),
        body: "{\"account\": 1}".into(),
    });
    let scanner = function(&emulator, &SCANNER, &vars).await;
    let response = scanner::handle(&scanner, SqsEvent { records }).await.expect("scanned");
    assert_eq!(response.failed_ids(), ["not-a-target"]);
    let store = scanner.ctx().store().await.unwrap();
    let bucket = "arn:aws:s3:::caracal-test-scanned";
    assert!(store.resources().get(bucket).await.expect("get").is_some(), "bucket stored");
    let verdicts = store.compliance().for_resource(bucket).await.expect("compliance");
    assert!(!verdicts.is_empty(), "the bundled policies evaluated the bucket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloudtrail_change_event_rescans_the_bucket_it_changed() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), None, &["AWS.S3.Bucket"]);
    let aws = emulator.aws().await.unwrap();
    let s3 = aws_sdk_s3::Client::new(aws.sdk_config());
    let bucket = "caracal-test-changed";
    s3.create_bucket().bucket(bucket).send().await.expect("bucket");
    let vars = env(&emulator, &config, &[]);
    let function = function(&emulator, &CHANGE_EVENTS, &vars).await;
    let target = caracal_app::fanout::ScanTarget {
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        types: vec!["AWS.S3.Bucket".into()],
    };
    caracal_app::fanout::scan_target(function.ctx(), &target, None).await.expect("first scan");
    let arn = format!("arn:aws:s3:::{bucket}");
    let store = function.ctx().store().await.unwrap().clone();
    let before = store.resources().get(&arn).await.unwrap().expect("scanned");
    assert!(before.attributes.get("Policy").is_none_or(|p| p.is_null()), "{before:?}");

    // The change the event reports, then the event.
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": "*", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    s3.put_bucket_policy().bucket(bucket).policy(policy.to_string()).send().await.expect("policy");
    let event: SqsEvent =
        serde_json::from_value(fixture("sqs_eventbridge_cloudtrail.json", &[])).expect("event");
    let response = change_events::handle(&function, event).await.expect("handled");

    assert_eq!(response.failed_ids(), ["c0ffee00-0003-4000-8000-garbage"]);
    let after = store.resources().get(&arn).await.unwrap().expect("still stored");
    let stored = after.attributes.get("Policy").and_then(|p| p.as_str()).unwrap_or_default();
    assert!(stored.contains("s3:GetObject"), "the rescan stored the new policy: {after:?}");
    let verdicts = store.compliance().for_resource(&arn).await.expect("compliance");
    assert!(!verdicts.is_empty(), "the rescanned bucket was evaluated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_an_http_api_request_through_the_router() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), None, &["AWS.S3.Bucket"]);
    let aws = emulator.aws().await.unwrap();
    let s3 = aws_sdk_s3::Client::new(aws.sdk_config());
    s3.create_bucket().bucket("caracal-test-api").send().await.expect("bucket");
    let sqs = aws_sdk_sqs::Client::new(aws.sdk_config());
    let queue = sqs.create_queue().queue_name("caracal-api-scans").send().await.expect("queue");
    let queue_url = queue.queue_url().expect("url").to_owned();
    let vars = env(&emulator, &config, &[("CARACAL_SCAN_QUEUE_URL", &queue_url)]);
    let function = function(&emulator, &API, &vars).await;
    let target = caracal_app::fanout::ScanTarget {
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        types: vec!["AWS.S3.Bucket".into()],
    };
    caracal_app::fanout::scan_target(function.ctx(), &target, None).await.expect("scan");
    let token = caracal_app::tokens::create(
        function.ctx(),
        "lambda-test",
        &[caracal_app::tokens::Scope::Read],
    )
    .await
    .expect("token")
    .token;

    let router = api::router(&function).await.expect("router");
    let payload = fixture("apigw_v2_http_request.json", &[("TOKEN", &token)]);
    let request = lambda_http::request::from_str(&payload.to_string()).expect("HTTP API request");
    let response = tower::ServiceExt::oneshot(router.clone(), request).await.expect("answered");
    assert_eq!(response.status(), 200);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
    let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON answer");
    assert!(body.to_string().contains("arn:aws:s3:::caracal-test-api"), "{body}");

    // Without the token: 401 as JSON, never a panic.
    let anonymous =
        fixture("apigw_v2_http_request.json", &[("Bearer TOKEN", "Bearer cct_nope_nope")]);
    let request = lambda_http::request::from_str(&anonymous.to_string()).expect("request");
    let response = tower::ServiceExt::oneshot(router.clone(), request).await.expect("answered");
    assert_eq!(response.status(), 401);

    // A scan started through the API is queued for the scanner function, not run in the
    // invocation (which Lambda freezes once it has answered).
    s3.create_bucket().bucket("caracal-test-api-new").send().await.expect("bucket");
    let remediate = caracal_app::tokens::create(
        function.ctx(),
        "lambda-scan",
        &[caracal_app::tokens::Scope::Remediate],
    )
    .await
    .expect("token")
    .token;
    let payload = fixture("apigw_v2_post_scan.json", &[("TOKEN", &remediate)]);
    let request = lambda_http::request::from_str(&payload.to_string()).expect("HTTP API request");
    let response = tower::ServiceExt::oneshot(router, request).await.expect("answered");
    assert_eq!(response.status(), 202);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
    let run: serde_json::Value = serde_json::from_slice(&body).expect("JSON answer");
    assert_eq!(run["status"], "queued", "{run}");
    assert_eq!(run["summary"]["queued_targets"], 1, "{run}");
    assert_eq!(run["started_by"], "token:lambda-scan", "{run}");
    let records = receive(&sqs, &queue_url).await;
    let bodies: Vec<serde_json::Value> =
        records.iter().map(|r| serde_json::from_str(&r.body).expect("json body")).collect();
    assert_eq!(
        bodies,
        [
            serde_json::json!({"account_id": ACCOUNT, "region": "us-east-1", "types": ["AWS.S3.Bucket"]})
        ]
    );
    let store = function.ctx().store().await.unwrap();
    let new_bucket = "arn:aws:s3:::caracal-test-api-new";
    assert!(store.resources().get(new_bucket).await.expect("get").is_none(), "not scanned yet");
    let scanner = common::function(&emulator, &SCANNER, &vars).await;
    let response = scanner::handle(&scanner, SqsEvent { records }).await.expect("scanned");
    assert!(response.failed_ids().is_empty());
    assert!(
        store.resources().get(new_bucket).await.expect("get").is_some(),
        "scanned by the scanner"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_remediator_plans_on_direct_invoke_and_fails_only_bad_queue_messages() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), None, &["AWS.S3.Bucket"]);
    let aws = emulator.aws().await.unwrap();
    let s3 = aws_sdk_s3::Client::new(aws.sdk_config());
    let bucket = "caracal-test-fixme";
    s3.create_bucket().bucket(bucket).send().await.expect("bucket");
    let vars = env(&emulator, &config, &[]);
    let function = function(&emulator, &REMEDIATOR, &vars).await;
    let target = caracal_app::fanout::ScanTarget {
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        types: vec!["AWS.S3.Bucket".into()],
    };
    caracal_app::fanout::scan_target(function.ctx(), &target, None).await.expect("scan");
    let arn = format!("arn:aws:s3:::{bucket}");
    let request = serde_json::json!({"resource_id": arn,
        "remediation_id": "AWS.S3.BlockBucketPublicAccess", "dry_run": true});

    let plan = remediator::handle(&function, request.clone()).await.expect("planned");
    assert!(plan.to_string().contains("PutPublicAccessBlock"), "{plan}");
    let block = s3.get_public_access_block().bucket(bucket).send().await;
    assert!(block.is_err(), "a dry run changes nothing");

    let mut apply = request.clone();
    apply["dry_run"] = serde_json::json!(false);
    let batch = serde_json::json!({"Records": [
        {"messageId": "fix", "receiptHandle": "r1", "body": apply.to_string()},
        {"messageId": "junk", "receiptHandle": "r2", "body": "{\"resource\": \"x\"}"},
    ]});
    let answer = remediator::handle(&function, batch).await.expect("batch");
    assert_eq!(answer, serde_json::json!({"batchItemFailures": [{"itemIdentifier": "junk"}]}));
    let block = s3.get_public_access_block().bucket(bucket).send().await.expect("block set");
    let config = block.public_access_block_configuration().expect("configuration");
    assert_eq!(config.block_public_acls(), Some(true));
    let filter = caracal_store::AuditFilter {
        resource_id: Some(arn.clone()),
        remediation_id: None,
        limit: 10,
    };
    let audit = function.ctx().store().await.unwrap().audit().list(&filter).await;
    assert!(audit.is_ok_and(|records| !records.is_empty()), "the fix is audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scanner_queues_automatic_fixes_and_the_remediator_applies_them() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), None, &["AWS.S3.Bucket"]);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[remediation]\nauto = true\n");
    std::fs::write(&config, text).unwrap();
    let aws = emulator.aws().await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(aws.sdk_config());
    let queue = sqs.create_queue().queue_name("caracal-remediation").send().await.expect("queue");
    let queue_url = queue.queue_url().expect("url").to_owned();
    let s3 = aws_sdk_s3::Client::new(aws.sdk_config());
    let bucket = "caracal-test-unversioned";
    s3.create_bucket().bucket(bucket).send().await.expect("bucket");
    let vars = env(&emulator, &config, &[("CARACAL_REMEDIATION_QUEUE_URL", &queue_url)]);
    let settings = Settings::from_lookup(&SCANNER, |k| vars.get(k).cloned()).expect("settings");
    assert_eq!(settings.remediation_queue_url.as_deref(), Some(queue_url.as_str()));
    let store = caracal_app::open_store(&settings.config, Some(&aws)).await.expect("store");
    let dispatch = SqsDispatch::new(sqs.clone(), queue_url.clone());
    let ctx = Context::from_parts(settings.config.clone(), aws.clone(), store)
        .with_remediation_dispatch(Arc::new(dispatch));
    let scanner = Function::new(&SCANNER, settings, Arc::new(ctx));
    let target = serde_json::json!({"account_id": ACCOUNT, "region": "us-east-1",
        "types": ["AWS.S3.Bucket"]});
    let batch = SqsEvent {
        records: vec![SqsRecord {
            message_id: "scan".into(),
            receipt_handle: String::new(),
            body: target.to_string(),
        }],
    };
    let response = scanner::handle(&scanner, batch).await.expect("scanned");
    assert!(response.batch_item_failures.is_empty());

    // The failing versioning policy names AWS.S3.EnableBucketVersioning: queued, not run.
    let arn = format!("arn:aws:s3:::{bucket}");
    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    let bodies: Vec<serde_json::Value> = received
        .messages()
        .iter()
        .filter_map(|m| m.body())
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect();
    let request = bodies
        .iter()
        .find(|b| b["resource_id"] == arn && b["remediation_id"] == "AWS.S3.EnableBucketVersioning")
        .unwrap_or_else(|| panic!("no versioning fix queued: {bodies:?}"));
    assert!(request["actor"].as_str().is_some_and(|a| a.starts_with("policy:")), "{request}");
    let store = scanner.ctx().store().await.unwrap();
    let filter = caracal_store::AuditFilter {
        resource_id: Some(arn.clone()),
        remediation_id: None,
        limit: 10,
    };
    assert!(store.audit().list(&filter).await.expect("audit").is_empty(), "nothing ran yet");

    // The remediator takes the queued request and fixes the bucket.
    let vars = env(&emulator, &config, &[]);
    let remediator = function(&emulator, &REMEDIATOR, &vars).await;
    let batch = serde_json::json!({"Records": [
        {"messageId": "queued", "receiptHandle": "r", "body": request.to_string()}]});
    let answer = remediator::handle(&remediator, batch).await.expect("remediated");
    assert_eq!(answer, serde_json::json!({"batchItemFailures": []}));
    let versioning = s3.get_bucket_versioning().bucket(bucket).send().await.expect("versioning");
    assert_eq!(versioning.status().map(|s| s.as_str()), Some("Enabled"));
    assert!(!store.audit().list(&filter).await.expect("audit").is_empty(), "the fix is audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destination_secrets_come_from_secrets_manager_and_ssm_parameters() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("caracal.toml");
    std::fs::write(
        &config,
        "[[destinations]]\nid = \"soc\"\nkind = \"webhook\"\nurl = \"env:HOOK_URL\"\n\
         secret = \"env:HOOK_KEY\"\n\n[[destinations]]\nid = \"pager\"\nkind = \"pagerduty\"\n\
         routing_key = \"env:PD_KEY\"\n",
    )
    .unwrap();
    let aws = emulator.aws().await.unwrap();
    let home = aws.session(None, caracal_aws::Purpose::Scan).await.expect("session").home();
    home.secretsmanager()
        .create_secret()
        .name("caracal/hook-url")
        .secret_string("http://127.0.0.1:9/hook\n")
        .send()
        .await
        .expect("secret");
    for (name, value, kind) in [
        ("/caracal/hook-key", "signing-key", aws_sdk_ssm::types::ParameterType::SecureString),
        ("/caracal/pd-key", "routing-key", aws_sdk_ssm::types::ParameterType::String),
    ] {
        home.ssm()
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(kind)
            .send()
            .await
            .expect("parameter");
    }
    let parameter_arn = format!("arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/caracal/pd-key");
    let secrets =
        format!("HOOK_URL=caracal/hook-url,HOOK_KEY=ssm:/caracal/hook-key,PD_KEY={parameter_arn}");
    let vars = env(&emulator, &config, &[("CARACAL_SECRETS", &secrets)]);
    let mut settings =
        Settings::from_lookup(&REMEDIATOR, |k| vars.get(k).cloned()).expect("settings");
    caracal_lambda::secrets::resolve(&aws, &mut settings).await.expect("resolved");
    let destination = |id: &str| {
        settings.config.destinations.iter().find(|d| d.id == id).expect("destination").clone()
    };
    let value = |secret: Option<caracal_core::config::Secret>| {
        secret.expect("set").resolve().expect("a value, not a reference")
    };
    assert_eq!(value(destination("soc").url), "http://127.0.0.1:9/hook");
    assert_eq!(value(destination("soc").secret), "signing-key");
    assert_eq!(value(destination("pager").routing_key), "routing-key");

    // A parameter that does not exist fails the cold start naming it, not a value.
    let vars = env(&emulator, &config, &[("CARACAL_SECRETS", "HOOK_KEY=ssm:/caracal/missing")]);
    let mut settings =
        Settings::from_lookup(&REMEDIATOR, |k| vars.get(k).cloned()).expect("settings");
    let err = caracal_lambda::secrets::resolve(&aws, &mut settings).await.unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("secret HOOK_KEY (/caracal/missing): "), "{text}");
    assert!(text.contains("ParameterNotFound"), "{text}");
}
