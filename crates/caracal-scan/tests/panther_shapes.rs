//! Snapshot shapes that public panther-analysis policies read, against the emulator (moto
//! on 127.0.0.1): each test sets up exactly what it needs, scans the types concerned and
//! checks the fields as Panther's snapshots have them. A divergence here makes community
//! policies fail silently, so the shapes are checked field by field.

use std::sync::Arc;

use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector, AdvancedFieldSelector, DataResource, EventSelector, ReadWriteType,
};
use caracal_aws::{Purpose, Session};
use caracal_core::ResourceType as T;
use caracal_scan::{ScanOutcome, ScanRequest, Scanner};
use caracal_store::{SqliteStore, Store};
use caracal_testkit::{ACCOUNT_ID, Emulator, REGION};
use serde_json::{Value, json};

/// A session scanning `regions` of the emulator.
async fn session(emulator: &Emulator, regions: &[&str]) -> Session {
    let mut settings = emulator.aws_config();
    settings.regions = regions.iter().map(|r| (*r).to_owned()).collect();
    let aws = caracal_aws::Aws::builder(&settings)
        .static_credentials("testing", "testing")
        .region(REGION)
        .build()
        .await
        .expect("aws for the emulator");
    aws.session(None, Purpose::Scan).await.expect("session")
}

/// Scans `types` into a fresh store; fails on any scan error.
async fn scan(session: &Session, types: &[&str]) -> ScanOutcome {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("caracal.db")).await.expect("sqlite"));
    let request =
        ScanRequest { regions: Vec::new(), types: types.iter().map(|t| (*t).to_owned()).collect() };
    let outcome = Scanner::new(store, 4)
        .scan(std::slice::from_ref(session), &request, &())
        .await
        .expect("scan");
    assert!(outcome.report.errors.is_empty(), "scan errors: {:#?}", outcome.report.errors);
    outcome
}

/// The snapshot (envelope and attributes) with this resource id.
fn snapshot(outcome: &ScanOutcome, id: &str) -> Value {
    outcome
        .resources
        .iter()
        .find(|r| r.resource_id == id)
        .unwrap_or_else(|| panic!("{id} not in the scan"))
        .to_json()
}

async fn trail(session: &Session, name: &str, multi_region: bool, logging: bool) -> String {
    let ct = session.home().cloudtrail();
    let arn = ct
        .create_trail()
        .name(name)
        .s3_bucket_name("shapes-trail-logs")
        .is_multi_region_trail(multi_region)
        .send()
        .await
        .expect("create trail")
        .trail_arn
        .expect("trail ARN");
    if logging {
        ct.start_logging().name(name).send().await.expect("start logging");
    }
    arn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudtrail_meta_flattens_selectors_of_logging_multi_region_trails() {
    let emulator = Emulator::start().expect("emulator");
    let session = session(&emulator, &[REGION]).await;
    session.home().s3().create_bucket().bucket("shapes-trail-logs").send().await.expect("bucket");
    let ct = session.home().cloudtrail();

    let basic = trail(&session, "multi-logging-basic", true, true).await;
    let selector = EventSelector::builder()
        .read_write_type(ReadWriteType::All)
        .include_management_events(true)
        .data_resources(
            DataResource::builder().r#type("AWS::S3::Object").values("arn:aws:s3").build(),
        )
        .exclude_management_event_sources("kms.amazonaws.com")
        .build();
    ct.put_event_selectors()
        .trail_name(&basic)
        .event_selectors(selector)
        .send()
        .await
        .expect("put");

    let advanced = trail(&session, "multi-logging-advanced", true, true).await;
    let field = AdvancedFieldSelector::builder()
        .field("eventCategory")
        .equals("Management")
        .build()
        .expect("field selector");
    let adv = AdvancedEventSelector::builder()
        .name("management")
        .field_selectors(field)
        .build()
        .expect("advanced selector");
    ct.put_event_selectors()
        .trail_name(&advanced)
        .advanced_event_selectors(adv)
        .send()
        .await
        .expect("put advanced");

    // Selectors of a stopped multi-region trail and of a single-region trail don't count.
    let read_only = EventSelector::builder()
        .read_write_type(ReadWriteType::ReadOnly)
        .include_management_events(true)
        .build();
    let stopped = trail(&session, "multi-stopped", true, false).await;
    let single = trail(&session, "single-logging", false, true).await;
    for arn in [&stopped, &single] {
        ct.put_event_selectors()
            .trail_name(arn)
            .event_selectors(read_only.clone())
            .send()
            .await
            .expect("put read-only");
    }

    let outcome = scan(&session, &[T::CLOUDTRAIL_META]).await;
    let meta = snapshot(&outcome, &format!("{ACCOUNT_ID}::{}", T::CLOUDTRAIL_META));
    assert_eq!(meta["Name"], T::CLOUDTRAIL_META, "Panther names a .Meta after its type");
    let mut trails = vec![basic, advanced, stopped, single];
    trails.sort();
    assert_eq!(meta["Trails"], json!(trails));
    assert_eq!(
        meta["GlobalEventSelectors"],
        json!([{
            "ReadWriteType": "All",
            "IncludeManagementEvents": true,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
            "ExcludeManagementEventSources": ["kms.amazonaws.com"],
        }])
    );
    let advanced = meta["GlobalAdvancedEventSelectors"].as_array().expect("a list");
    assert_eq!(advanced.len(), 1, "{advanced:?}");
    assert_eq!(advanced[0]["Name"], "management");
    assert_eq!(advanced[0]["FieldSelectors"][0]["Field"], "eventCategory");
    assert_eq!(advanced[0]["FieldSelectors"][0]["Equals"], json!(["Management"]));

    // The public "CloudTrail enabled" check, as panther-analysis writes it, now passes.
    let enabled = meta["GlobalEventSelectors"].as_array().into_iter().flatten().any(|s| {
        s.get("IncludeManagementEvents") == Some(&Value::Bool(true))
            && s.get("ReadWriteType") == Some(&json!("All"))
    });
    assert!(enabled);
}
