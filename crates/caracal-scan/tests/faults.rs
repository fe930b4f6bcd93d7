//! The scanner behind a fault-injecting proxy: broken answers are counted errors, and a
//! listing in doubt deletes nothing.

use std::sync::Arc;

use caracal_aws::{Purpose, Session};
use caracal_core::ResourceType as T;
use caracal_scan::{ScanOutcome, ScanRequest, Scanner};
use caracal_store::{SqliteStore, Store};
use caracal_testkit::{Emulator, Fault, FaultProxy, Matcher, seed};

async fn session_at(emulator: &Emulator, endpoint: &str) -> Session {
    let aws = emulator.aws_at(endpoint, 1).await.expect("aws");
    aws.session(None, Purpose::Scan).await.expect("session")
}

async fn scan(store: &Arc<dyn Store>, session: &Session, types: &[&str]) -> ScanOutcome {
    let request =
        ScanRequest { regions: Vec::new(), types: types.iter().map(|t| (*t).to_owned()).collect() };
    Scanner::new(Arc::clone(store), 4)
        .scan(std::slice::from_ref(session), &request, &())
        .await
        .expect("scan")
}

async fn live_ids(store: &Arc<dyn Store>, resource_type: &str) -> Vec<String> {
    let filter = caracal_store::ResourceFilter {
        resource_type: Some(resource_type.to_owned()),
        ..Default::default()
    };
    let page = store.resources().list(&filter, &caracal_store::PageRequest::first(1000)).await;
    page.expect("list").items.into_iter().map(|s| s.resource.resource_id).collect()
}

/// A seeded account scanned for `resource_type` through a proxy that answers every
/// `operation` (a JSON-protocol target) with a server error.
struct FailedDetail {
    manifest: seed::Manifest,
    store: Arc<dyn Store>,
    account_id: String,
    outcome: ScanOutcome,
    _dir: tempfile::TempDir,
}

impl FailedDetail {
    async fn run(operation: &str, resource_type: &str) -> Self {
        let emulator = Emulator::start().expect("emulator");
        let direct = session_at(&emulator, &emulator.endpoint()).await;
        let manifest = seed::seed(&direct, 1).await.expect("seed");
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("caracal.db")).await.expect("sqlite"));
        let proxy = FaultProxy::start(&emulator.endpoint()).expect("proxy");
        let via_proxy = session_at(&emulator, &proxy.endpoint()).await;
        proxy.inject(Matcher::Target(operation.into()), Fault::ServerError);
        let outcome = scan(&store, &via_proxy, &[resource_type]).await;
        let summary = &outcome.report.types[resource_type];
        // Every resource is kept, and its failed call counted.
        assert_eq!(summary.errors, summary.seen, "{:#?}", outcome.report.errors);
        let account_id = via_proxy.account_id().to_owned();
        FailedDetail { manifest, store, account_id, outcome, _dir: dir }
    }

    /// The stored snapshot of `id`, which must be there.
    async fn stored(&self, id: &str) -> serde_json::Value {
        self.store.resources().get(id).await.expect("get").expect("kept").to_json()
    }
}

// #11.4: a listing answered with an empty 200, a 500, throttling or a dropped connection
// is an error in the report, and the resources it would have missed stay live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_in_doubt_is_an_error_and_deletes_nothing() {
    let emulator = Emulator::start().expect("emulator");
    let direct = session_at(&emulator, &emulator.endpoint()).await;
    seed::seed(&direct, 1).await.expect("seed");
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("caracal.db")).await.expect("sqlite"));
    let types = [
        T::KMS_KEY,
        T::DYNAMODB_TABLE,
        T::CLOUDTRAIL,
        T::CONFIG_RECORDER,
        T::IAM_USER,
        T::S3_BUCKET,
    ];
    let first = scan(&store, &direct, &types).await;
    assert!(first.report.errors.is_empty(), "{:#?}", first.report.errors);
    let mut before = Vec::new();
    for t in types {
        let ids = live_ids(&store, t).await;
        assert!(!ids.is_empty(), "{t} seeded");
        before.push(ids);
    }

    let proxy = FaultProxy::start(&emulator.endpoint()).expect("proxy");
    let via_proxy = session_at(&emulator, &proxy.endpoint()).await;
    proxy.inject(Matcher::Target("ListKeys".into()), Fault::EmptyOk);
    proxy.inject(Matcher::Target("ListTables".into()), Fault::EmptyOk);
    proxy.inject(Matcher::Target("DescribeTrails".into()), Fault::ServerError);
    proxy.inject(Matcher::Target("DescribeConfigurationRecorders".into()), Fault::Throttling);
    proxy.inject(Matcher::Action("GetAccountAuthorizationDetails".into()), Fault::DropConnection);
    proxy.inject(Matcher::QueryKey("x-id=ListBuckets".into()), Fault::EmptyOk);
    let outcome = scan(&store, &via_proxy, &types).await;

    assert_eq!(outcome.report.totals().deleted, 0, "{:#?}", outcome.report.types);
    for (t, ids) in types.iter().zip(&before) {
        assert_eq!(&live_ids(&store, t).await, ids, "{t} lost live resources");
        assert!(outcome.report.types[*t].errors >= 1, "{t}: no error counted");
    }
    let error = |op: &str| {
        outcome
            .report
            .errors
            .iter()
            .find(|e| e.operation == op)
            .unwrap_or_else(|| panic!("no {op} error in {:#?}", outcome.report.errors))
    };
    assert!(error("kms:ListKeys").message.contains("empty body"), "{:?}", error("kms:ListKeys"));
    assert!(error("dynamodb:ListTables").message.contains("empty body"));
    error("cloudtrail:DescribeTrails");
    error("config:DescribeConfigurationRecorders");
    error("s3:ListBuckets");
    assert!(proxy.faults_served() >= types.len() as u64);
}

// #11.8b: one failed detail call (GetBucketVersioning answered with a document the SDK
// rejects) keeps the bucket with everything else read, the failure noted on it and
// counted; the listing is still complete, so a deleted bucket is still marked deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_detail_call_keeps_the_bucket_with_the_failure_noted() {
    let emulator = Emulator::start().expect("emulator");
    let direct = session_at(&emulator, &emulator.endpoint()).await;
    let manifest = seed::seed(&direct, 1).await.expect("seed");
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("caracal.db")).await.expect("sqlite"));
    let first = scan(&store, &direct, &[T::S3_BUCKET]).await;
    assert!(first.report.errors.is_empty(), "{:#?}", first.report.errors);

    let gone = manifest.buckets.iter().find(|b| b.name.ends_with("-plain")).expect("plain");
    direct.home().s3().delete_bucket().bucket(&gone.name).send().await.expect("delete bucket");
    let proxy = FaultProxy::start(&emulator.endpoint()).expect("proxy");
    let via_proxy = session_at(&emulator, &proxy.endpoint()).await;
    // moto's own answer before the harness corrects it: AWS's root is VersioningConfiguration.
    proxy.inject(
        Matcher::QueryKey("versioning".into()),
        Fault::Respond {
            status: 200,
            content_type: "application/xml".into(),
            body: "<GetBucketVersioningResponse><Status>Enabled</Status></GetBucketVersioningResponse>"
                .into(),
        },
    );
    let outcome = scan(&store, &via_proxy, &[T::S3_BUCKET]).await;

    let live: Vec<_> = manifest.buckets.iter().filter(|b| b.name != gone.name).collect();
    let summary = &outcome.report.types[T::S3_BUCKET];
    assert_eq!(summary.deleted, 1, "the listing was complete: {summary:?}");
    // Every bucket listed (the seeded ones and the trail's log bucket) is kept and counted.
    assert_eq!(summary.errors, summary.seen, "{:#?}", outcome.report.errors);
    assert!(summary.seen as usize > live.len(), "{summary:?}");
    assert!(outcome.report.errors.iter().all(|e| e.operation == "s3:GetBucketVersioning"));
    for b in live {
        let id = format!("arn:aws:s3:::{}", b.name);
        let v = store.resources().get(&id).await.expect("get").expect("kept").to_json();
        let noted = &v[caracal_scan::ERRORS_ATTRIBUTE];
        assert_eq!(noted.as_array().map(Vec::len), Some(1), "{}: {v}", b.name);
        assert_eq!(noted[0]["operation"], "s3:GetBucketVersioning");
        // The fields it left unknown: policies reading them error (caracal-python partial.py).
        assert_eq!(noted[0]["fields"], serde_json::json!(["Versioning", "MFADelete"]));
        assert!(noted[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(v.get("Versioning").is_none(), "unknown, not null: {v}");
        assert!(v["Owner"]["ID"].is_string(), "the ACL was read: {v}");
        assert!(v.as_object().is_some_and(|o| o.contains_key("PublicAccessBlockConfiguration")));
        assert_eq!(v["EncryptionRules"].is_array(), b.encrypted, "{}", b.name);
    }
    let gone_id = format!("arn:aws:s3:::{}", gone.name);
    assert!(store.resources().get(&gone_id).await.expect("get").is_none());

    // Once the call answers again, the note goes away.
    proxy.clear();
    let healed = scan(&store, &via_proxy, &[T::S3_BUCKET]).await;
    assert!(healed.report.errors.is_empty(), "{:#?}", healed.report.errors);
    let any = manifest.buckets.iter().find(|b| b.name != gone.name).expect("a bucket");
    let v = store.resources().get(&format!("arn:aws:s3:::{}", any.name)).await;
    let v = v.expect("get").expect("live").to_json();
    assert!(v.get(caracal_scan::ERRORS_ATTRIBUTE).is_none(), "{v}");
    assert!(v.get("Versioning").is_some());
}

// #11.8b: the same for KMS keys: a failed GetKeyPolicy keeps the key, noted and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_key_policy_call_keeps_the_key_with_the_failure_noted() {
    let run = FailedDetail::run("GetKeyPolicy", T::KMS_KEY).await;
    let summary = &run.outcome.report.types[T::KMS_KEY];
    assert!(summary.seen >= run.manifest.kms_keys.len() as u64, "{summary:?}");
    for k in &run.manifest.kms_keys {
        let v = run.stored(&k.arn).await;
        assert_eq!(v[caracal_scan::ERRORS_ATTRIBUTE][0]["operation"], "kms:GetKeyPolicy", "{v}");
        assert!(v.get("Policy").is_none(), "{v}");
        assert_eq!(v["KeyRotationEnabled"], k.rotation, "read despite the failure: {v}");
    }
    let errors = &run.outcome.report.errors;
    let e = errors.iter().find(|e| e.operation == "kms:GetKeyPolicy");
    assert!(e.is_some_and(|e| e.message.contains("InternalFailure")), "{errors:#?}");
}

// #11.8b: a failed DescribeContinuousBackups keeps the table, its backups unknown (absent,
// not null, and named so a policy reading them errors instead of judging), the rest read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_backups_call_keeps_the_table_with_the_failure_noted() {
    let run = FailedDetail::run("DescribeContinuousBackups", T::DYNAMODB_TABLE).await;
    assert!(!run.manifest.tables.is_empty());
    for name in &run.manifest.tables {
        let v = run
            .stored(&format!("arn:aws:dynamodb:us-east-1:{}:table/{name}", run.account_id))
            .await;
        let note = &v[caracal_scan::ERRORS_ATTRIBUTE][0];
        assert_eq!(note["operation"], "dynamodb:DescribeContinuousBackups", "{v}");
        assert_eq!(note["fields"], serde_json::json!(["ContinuousBackupsDescription"]), "{v}");
        assert!(v.get("ContinuousBackupsDescription").is_none(), "{v}");
        assert!(v.get("TimeToLiveDescription").is_some(), "read despite the failure: {v}");
    }
}

// #11.8b: a failed GetTrailStatus keeps the trail, its status unknown (absent and named),
// its selectors and settings read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_trail_status_call_keeps_the_trail_with_the_failure_noted() {
    let run = FailedDetail::run("GetTrailStatus", T::CLOUDTRAIL).await;
    assert!(!run.manifest.trails.is_empty());
    for name in &run.manifest.trails {
        let v = run
            .stored(&format!("arn:aws:cloudtrail:us-east-1:{}:trail/{name}", run.account_id))
            .await;
        let note = &v[caracal_scan::ERRORS_ATTRIBUTE][0];
        assert_eq!(note["operation"], "cloudtrail:GetTrailStatus", "{v}");
        assert_eq!(note["fields"], serde_json::json!(["Status"]), "{v}");
        assert!(v.get("Status").is_none(), "{v}");
        assert!(v["EventSelectors"].is_array(), "read despite the failure: {v}");
    }
}
