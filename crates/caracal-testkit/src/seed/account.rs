//! Once per account: a CloudTrail trail that is not logging (and its bucket), and a
//! Config recorder that is defined but stopped.

use aws_sdk_config::types::DeliveryChannel;
use caracal_aws::{Clients, Session};

use super::SeedError;
use super::error::call;
use super::s3::create_bucket;

/// The trail's log bucket, also where a started Config recorder delivers.
const TRAIL_BUCKET: &str = "caracal-seed-trail-logs";

/// Starts the seeded Config recorder (named in the manifest), with the delivery channel it
/// needs, as in an account that records its configuration (the scan's Config fast path).
pub async fn start_config_recorder(session: &Session, recorder: &str) -> Result<(), SeedError> {
    let config = session.home().config();
    config
        .put_delivery_channel()
        .delivery_channel(
            DeliveryChannel::builder().name("default").s3_bucket_name(TRAIL_BUCKET).build(),
        )
        .send()
        .await
        .map_err(call("Config delivery channel"))?;
    config
        .start_configuration_recorder()
        .configuration_recorder_name(recorder)
        .send()
        .await
        .map_err(call("Config recorder start"))?;
    Ok(())
}

/// The account singletons; returns the trail's name.
pub(super) async fn seed(c: &Clients, recorder: &str) -> Result<String, SeedError> {
    let s3 = c.s3();
    let trail_bucket = TRAIL_BUCKET;
    create_bucket(&s3, trail_bucket, c.region()).await?;
    let trail = "caracal-seed-trail".to_owned();
    c.cloudtrail()
        .create_trail()
        .name(&trail)
        .s3_bucket_name(trail_bucket)
        .is_multi_region_trail(false)
        .enable_log_file_validation(false)
        .send()
        .await
        .map_err(call(format!("trail {trail}")))?;

    let role = c
        .iam()
        .create_role()
        .role_name("caracal-seed-config")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"config.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .map_err(call("Config recorder role"))?
        .role
        .map(|r| r.arn)
        .unwrap_or_default();
    c.config()
        .put_configuration_recorder()
        .configuration_recorder(
            aws_sdk_config::types::ConfigurationRecorder::builder()
                .name(recorder)
                .role_arn(role)
                .recording_group(
                    aws_sdk_config::types::RecordingGroup::builder()
                        .all_supported(true)
                        .include_global_resource_types(true)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .map_err(call("Config recorder"))?;
    Ok(trail)
}
