//! The AWS Config fast path (#17.1) against the emulator: with the seeded account's
//! recorder on, S3 bucket details come from BatchGetResourceConfig, the stored snapshots
//! are exactly those of a scan through the API, and the type costs at least three times
//! fewer requests. Without a recording recorder `auto` reads the API; `config` reads
//! items anyway; items older than `config_max_age_hours`, and every bucket when Config
//! fails, are read through the API.

use std::sync::Arc;

use caracal_aws::{Purpose, Session};
use caracal_core::config::ScanSource;
use caracal_scan::{Inventory, ScanOutcome, ScanRequest, Scanner};
use caracal_store::{SqliteStore, Store};
use caracal_testkit::{Emulator, Fault, FaultProxy, Matcher, seed};

const BUCKET: &str = "AWS.S3.Bucket";

/// Scans the buckets into a new store; the stored documents sorted by id.
async fn scan(session: &Session, inventory: Inventory) -> (ScanOutcome, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("caracal.db")).await.expect("sqlite"));
    let request = ScanRequest { regions: Vec::new(), types: vec![BUCKET.to_owned()] };
    let outcome = Scanner::new(Arc::clone(&store), 4)
        .reading_from(inventory)
        .scan(std::slice::from_ref(session), &request, &())
        .await
        .expect("scan");
    let mut docs = Vec::new();
    for r in &outcome.resources {
        let stored = store.resources().get(&r.resource_id).await.expect("get").expect("stored");
        docs.push(serde_json::to_string(&stored.to_json()).expect("json"));
    }
    docs.sort();
    (outcome, docs)
}

fn requests(outcome: &ScanOutcome) -> u64 {
    outcome.report.types[BUCKET].requests
}

fn operation(outcome: &ScanOutcome, name: &str) -> u64 {
    outcome.report.types[BUCKET]
        .operations
        .iter()
        .filter(|(op, _)| op.contains(name))
        .map(|(_, n)| *n)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_items_give_the_api_snapshots_for_a_third_of_the_requests() {
    let clean = |o: &ScanOutcome| assert!(o.report.errors.is_empty(), "{:#?}", o.report.errors);
    let emulator = Emulator::start().expect("emulator");
    let aws = emulator.aws().await.expect("aws");
    let session = aws.session(None, Purpose::Scan).await.expect("session");
    let manifest = seed::seed_mix(&session, 1, seed::Mix::Realistic).await.expect("seed");
    let recorder = manifest.config_recorder.as_str();
    let api = Inventory::new(ScanSource::Api, None);
    let auto = Inventory::new(ScanSource::Auto, None);

    // The seeded recorder is off: `auto` reads the API, like `api`, asking Config only
    // whether a recorder records buckets.
    let (before, before_docs) = scan(&session, auto).await;
    clean(&before);
    assert_eq!(operation(&before, "BatchGetResourceConfig"), 0);

    seed::start_config_recorder(&session, recorder).await.expect("recorder started");
    let (through_api, api_docs) = scan(&session, api).await;
    let (through_config, config_docs) = scan(&session, auto).await;
    clean(&through_api);
    clean(&through_config);
    assert_eq!(before_docs, api_docs);
    assert!(api_docs.len() > 20, "{} buckets", api_docs.len());
    assert!(
        api_docs.iter().any(|d| d.contains("groups/global/AllUsers")),
        "a public bucket is among them"
    );
    assert_eq!(config_docs, api_docs, "the same snapshots through Config");
    assert_eq!(operation(&through_api, "BatchGetResourceConfig"), 0);
    assert!(operation(&through_config, "BatchGetResourceConfig") >= 1);
    assert_eq!(operation(&through_config, "GetBucketAcl"), 0, "ACLs come from the items");
    assert_eq!(operation(&through_config, "GetBucketVersioning"), 0);
    assert!(
        requests(&through_api) >= 3 * requests(&through_config),
        "{} requests through the API, {} through Config:\n{:#?}\n{:#?}",
        requests(&through_api),
        requests(&through_config),
        through_api.report.types[BUCKET].operations,
        through_config.report.types[BUCKET].operations,
    );
    eprintln!(
        "{} buckets: {} requests through the API, {} with Config",
        api_docs.len(),
        requests(&through_api),
        requests(&through_config)
    );

    // Items captured before the allowed age are read again through the API.
    let (stale, stale_docs) = scan(&session, Inventory::new(ScanSource::Auto, Some(0))).await;
    clean(&stale);
    assert_eq!(stale_docs, api_docs);
    assert_eq!(operation(&stale, "GetBucketAcl"), api_docs.len() as u64);

    // Config failing (here every BatchGetResourceConfig answers 500): the API reads
    // every bucket, nothing is lost, and the failure is one counted scan error.
    let proxy = FaultProxy::start(&emulator.endpoint()).expect("proxy");
    proxy.inject(Matcher::Target("BatchGetResourceConfig".into()), Fault::ServerError);
    let failing = emulator.aws_at(&proxy.endpoint(), 2).await.expect("aws through the proxy");
    let failing = failing.session(None, Purpose::Scan).await.expect("session");
    let (fallback, fallback_docs) = scan(&failing, auto).await;
    assert_eq!(fallback_docs, api_docs);
    let errors = &fallback.report.errors;
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].operation, "config:BatchGetResourceConfig");
    assert!(errors[0].message.contains("read through the API instead"), "{errors:#?}");
    assert!(proxy.faults_served() >= 1, "Config was asked");
    assert_eq!(operation(&fallback, "GetBucketAcl"), api_docs.len() as u64);

    // `config` reads items whatever the recorder says.
    session
        .home()
        .config()
        .stop_configuration_recorder()
        .configuration_recorder_name(recorder)
        .send()
        .await
        .expect("recorder stopped");
    let (stopped_auto, _) = scan(&session, auto).await;
    clean(&stopped_auto);
    assert_eq!(operation(&stopped_auto, "BatchGetResourceConfig"), 0);
    let (forced, forced_docs) = scan(&session, Inventory::new(ScanSource::Config, None)).await;
    clean(&forced);
    assert_eq!(forced_docs, api_docs);
    assert!(operation(&forced, "BatchGetResourceConfig") >= 1);
}
