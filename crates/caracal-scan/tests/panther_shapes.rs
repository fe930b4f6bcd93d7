//! Snapshot shapes that public panther-analysis policies read, against the emulator (moto
//! on 127.0.0.1): each test sets up exactly what it needs, scans the types concerned and
//! checks the fields as Panther's snapshots have them. A divergence here makes community
//! policies fail silently, so the shapes are checked field by field.

use std::sync::Arc;

use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector, AdvancedFieldSelector, DataResource, EventSelector, ReadWriteType,
};
use aws_sdk_config::types::{ConfigurationRecorder, DeliveryChannel, RecordingGroup};
use aws_smithy_types::date_time::Format;
use caracal_aws::{Purpose, Session};
use caracal_core::ResourceType as T;
use caracal_scan::{ScanOutcome, ScanRequest, Scanner};
use caracal_store::{SqliteStore, Store};
use caracal_testkit::{ACCOUNT_ID, Emulator, REGION};
use serde_json::{Value, json};

const OTHER_REGION: &str = "eu-west-1";

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

async fn recorder(session: &Session, region: &str, group: RecordingGroup, start: bool) {
    let config = session.clients(region).config();
    let rec = ConfigurationRecorder::builder()
        .name("default")
        .role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/config"))
        .recording_group(group)
        .build();
    config.put_configuration_recorder().configuration_recorder(rec).send().await.expect("recorder");
    if start {
        let channel =
            DeliveryChannel::builder().name("default").s3_bucket_name("shapes-config").build();
        config.put_delivery_channel().delivery_channel(channel).send().await.expect("channel");
        config
            .start_configuration_recorder()
            .configuration_recorder_name("default")
            .send()
            .await
            .expect("start recorder");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_recorder_meta_lists_recorder_ids_and_counts_all_supported_global_recorders() {
    let emulator = Emulator::start().expect("emulator");
    let session = session(&emulator, &[REGION, OTHER_REGION]).await;
    let everything =
        RecordingGroup::builder().all_supported(true).include_global_resource_types(true).build();
    recorder(&session, REGION, everything, true).await;
    let no_global =
        RecordingGroup::builder().all_supported(true).include_global_resource_types(false).build();
    recorder(&session, OTHER_REGION, no_global, false).await;

    let outcome = scan(&session, &[T::CONFIG_RECORDER, T::CONFIG_RECORDER_META]).await;
    let meta = snapshot(&outcome, &format!("{ACCOUNT_ID}::{}", T::CONFIG_RECORDER_META));
    assert_eq!(meta["Name"], T::CONFIG_RECORDER_META, "Panther names a .Meta after its type");
    let ids: Vec<String> = [REGION, OTHER_REGION]
        .iter()
        .map(|r| format!("{ACCOUNT_ID}:{r}:AWS.Config.Recorder"))
        .collect();
    assert_eq!(meta["Recorders"], json!(ids), "resource ids, as strings");
    for id in &ids {
        // Each id is the AWS.Config.Recorder resource's own.
        assert_eq!(snapshot(&outcome, id)["ResourceType"], T::CONFIG_RECORDER);
    }
    assert_eq!(meta["GlobalRecorderCount"], 1, "only the AllSupported + global recorder");
    assert_eq!(meta["Regions"], json!([REGION, OTHER_REGION]));
    let details = meta["RecorderDetails"].as_array().expect("caracal's details");
    assert_eq!(details.len(), 2);
    assert_eq!(details[0]["Region"], REGION);
    assert_eq!(details[0]["ResourceId"], ids[0].as_str());
    assert_eq!(details[0]["Status"]["Recording"], true);
    assert_eq!(details[1]["Region"], OTHER_REGION);
    assert_eq!(details[1]["Status"]["Recording"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_user_groups_are_group_objects() {
    let emulator = Emulator::start().expect("emulator");
    let session = session(&emulator, &[REGION]).await;
    let iam = session.home().iam();
    iam.create_user().user_name("grouped").send().await.expect("user");
    for (group, path) in [("team-a", "/teams/"), ("team-b", "/")] {
        iam.create_group().group_name(group).path(path).send().await.expect("group");
        iam.add_user_to_group().group_name(group).user_name("grouped").send().await.expect("add");
    }
    let listed = iam.list_groups_for_user().user_name("grouped").send().await.expect("list");
    let mut expected: Vec<Value> = listed
        .groups()
        .iter()
        .map(|g| {
            json!({
                "Arn": g.arn(),
                "CreateDate": g.create_date().fmt(Format::DateTime).expect("date"),
                "GroupId": g.group_id(),
                "GroupName": g.group_name(),
                "Path": g.path(),
            })
        })
        .collect();
    expected.sort_by_key(|g| g["GroupName"].to_string());
    assert_eq!(expected.len(), 2);

    let outcome = scan(&session, &[T::IAM_USER]).await;
    let user = snapshot(&outcome, &format!("arn:aws:iam::{ACCOUNT_ID}:user/grouped"));
    let mut groups = user["Groups"].as_array().expect("Groups is a list").clone();
    groups.sort_by_key(|g| g["GroupName"].to_string());
    assert_eq!(groups, expected, "ListGroupsForUser's group objects");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_user_access_keys_are_listed_even_when_the_report_shows_none() {
    let emulator = Emulator::start().expect("emulator");
    let session = session(&emulator, &[REGION]).await;
    let iam = session.home().iam();
    iam.create_user().user_name("first").send().await.expect("user");
    // The first scan generates the credential report; later ones find it complete, so
    // their request counts differ only by the per-user calls.
    scan(&session, &[T::IAM_USER]).await;
    let before = scan(&session, &[T::IAM_USER]).await.report.requests;

    // The report (live in the emulator) shows no key for this user: its keys are still
    // listed, because a real report can be hours old.
    iam.create_user().user_name("keyless").send().await.expect("user");
    let outcome = scan(&session, &[T::IAM_USER]).await;
    let user = snapshot(&outcome, &format!("arn:aws:iam::{ACCOUNT_ID}:user/keyless"));
    assert_eq!(user["CredentialReport"]["AccessKey1LastRotated"], Value::Null);
    assert_eq!(user["AccessKeys"], json!([]));
    assert_eq!(outcome.report.requests, before + 1, "one ListAccessKeys for the new user");

    let key = iam.create_access_key().user_name("keyless").send().await.expect("key");
    let key_id = key.access_key().map(|k| k.access_key_id().to_owned()).expect("key id");
    let outcome = scan(&session, &[T::IAM_USER]).await;
    let user = snapshot(&outcome, &format!("arn:aws:iam::{ACCOUNT_ID}:user/keyless"));
    assert_eq!(user["AccessKeys"][0]["AccessKeyId"], key_id.as_str());
    assert_eq!(user["AccessKeys"][0]["Status"], "Active");
    assert_eq!(outcome.report.requests, before + 2, "plus GetAccessKeyLastUsed for the key");
}
