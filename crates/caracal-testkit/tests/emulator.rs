//! The harness starts moto on loopback, corrects the responses the Rust SDK rejects, and
//! never leaves a process behind.

use std::path::Path;

use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use caracal_aws::Purpose;
use caracal_testkit::Emulator;

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn emulator_answers_on_loopback_and_dies_on_drop() {
    let emulator = Emulator::start().expect("emulator starts");
    assert!(emulator.endpoint().starts_with("http://127.0.0.1:"));
    let pid = emulator.pid();
    assert!(alive(pid));
    emulator.reset().expect("reset answers");
    drop(emulator);
    assert!(!alive(pid), "emulator {pid} still running after drop");
}

#[test]
fn no_emulator_process_survives_a_panicking_test() {
    let pid = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let seen = pid.clone();
    let outcome = std::panic::catch_unwind(move || {
        let emulator = Emulator::start().expect("emulator starts");
        seen.store(emulator.pid(), std::sync::atomic::Ordering::SeqCst);
        panic!("a test failing while the emulator runs");
    });
    assert!(outcome.is_err(), "the closure panicked");
    let pid = pid.load(std::sync::atomic::Ordering::SeqCst);
    assert_ne!(pid, 0, "the emulator had started");
    assert!(!alive(pid), "emulator {pid} outlived the panicking test");
}

#[tokio::test]
async fn sdk_reads_bucket_versioning_through_the_corrected_response() {
    let emulator = Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    let session = aws.session(None, Purpose::Scan).await.unwrap();
    assert_eq!(session.account_id(), caracal_testkit::ACCOUNT_ID);
    let s3 = session.home().s3();
    s3.create_bucket().bucket("versioned").send().await.unwrap();
    s3.create_bucket().bucket("unversioned").send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket("versioned")
        .versioning_configuration(
            VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build(),
        )
        .send()
        .await
        .unwrap();
    // Without the launcher's correction this fails with "encountered invalid XML root".
    let on = s3.get_bucket_versioning().bucket("versioned").send().await.unwrap();
    assert_eq!(on.status, Some(BucketVersioningStatus::Enabled));
    let off = s3.get_bucket_versioning().bucket("unversioned").send().await.unwrap();
    assert_eq!(off.status, None);
    // Likewise for the notification configuration.
    s3.get_bucket_notification_configuration().bucket("versioned").send().await.unwrap();
    assert!(aws.requests().get() >= 6, "requests are counted");
}

// Without the launcher's corrections BatchGetResourceConfig answers 500 for a bucket
// granting to AllUsers, its timestamps do not parse, and the item lacks versioning.
#[tokio::test]
async fn sdk_reads_config_items_of_a_public_bucket() {
    let emulator = Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    let session = aws.session(None, Purpose::Scan).await.unwrap();
    let s3 = session.home().s3();
    s3.create_bucket()
        .bucket("public")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    let key = aws_sdk_config::types::ResourceKey::builder()
        .resource_type("AWS::S3::Bucket".into())
        .resource_id("public")
        .build()
        .unwrap();
    let out = session
        .home()
        .config()
        .batch_get_resource_config()
        .resource_keys(key)
        .send()
        .await
        .unwrap();
    let item = &out.base_configuration_items()[0];
    assert!(item.configuration_item_capture_time().is_some());
    let extra = item.supplementary_configuration().unwrap();
    assert!(extra["AccessControlList"].contains("AllUsers"), "{extra:?}");
    assert!(extra["BucketVersioningConfiguration"].contains("\"Off\""), "{extra:?}");
}
