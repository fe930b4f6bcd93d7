//! KMS, Config, CloudTrail and DynamoDB remediations against the emulator.

mod common;

use caracal_core::AuditOutcome;
use caracal_remediate::Error;
use common::{ACCOUNT, Harness, REGION, actions};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn service_remediations_fix_the_seeded_account_once() {
    let h = Harness::start().await;
    let c = h.clients();

    // KMS rotation on the unrotated key.
    let key = h.manifest.kms_keys.iter().find(|k| !k.rotation).unwrap();
    h.fix(&key.arn, "AWS.KMS.EnableKeyRotation", &[], |plan| {
        assert_eq!(actions(plan), ["kms:EnableKeyRotation"]);
        assert_eq!(plan.calls[0].params["KeyId"], key.id.as_str());
    })
    .await;
    let status = c.kms().get_key_rotation_status().key_id(&key.id).send().await.unwrap();
    assert!(status.key_rotation_enabled);

    // CloudTrail: log file validation, then logging.
    let trail = &h.manifest.trails[0];
    let trail_arn = format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{trail}");
    h.fix(&trail_arn, "AWS.CloudTrail.EnableLogFileValidation", &[], |plan| {
        assert_eq!(actions(plan), ["cloudtrail:UpdateTrail"]);
        assert_eq!(plan.calls[0].params, json!({"Name": trail, "EnableLogFileValidation": true}));
    })
    .await;
    let trails = c.cloudtrail().describe_trails().trail_name_list(trail).send().await.unwrap();
    assert_eq!(trails.trail_list.unwrap()[0].log_file_validation_enabled, Some(true));
    h.fix(&trail_arn, "AWS.CloudTrail.StartLogging", &[], |plan| {
        assert_eq!(actions(plan), ["cloudtrail:StartLogging"]);
        assert_eq!(plan.changes[0].field, "Status/IsLogging");
    })
    .await;
    let status = c.cloudtrail().get_trail_status().name(trail).send().await.unwrap();
    assert_eq!(status.is_logging, Some(true));

    // DynamoDB point-in-time recovery.
    let table = &h.manifest.tables[0];
    let table_arn = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}");
    h.fix(&table_arn, "AWS.DynamoDB.EnablePointInTimeRecovery", &[], |plan| {
        assert_eq!(actions(plan), ["dynamodb:UpdateContinuousBackups"]);
        assert_eq!(plan.changes[0].after, json!("ENABLED"));
    })
    .await;
    let backups =
        c.dynamodb().describe_continuous_backups().table_name(table).send().await.unwrap();
    let pitr =
        backups.continuous_backups_description.unwrap().point_in_time_recovery_description.unwrap();
    assert_eq!(pitr.point_in_time_recovery_status.unwrap().as_str(), "ENABLED");

    // Config recorder: the seeded one has no delivery channel, so AWS refuses to start it;
    // the failure is audited and nothing claims success.
    let recorder = format!("{ACCOUNT}:{REGION}:AWS.Config.Recorder");
    let req = h.request(&recorder, "AWS.Config.StartRecorder", &[]);
    let plan = h.exec.plan(&req).await.unwrap();
    assert_eq!(
        plan.calls[0].params,
        json!({"ConfigurationRecorderName": h.manifest.config_recorder})
    );
    let err = h.exec.apply(&req, &plan).await.unwrap_err();
    assert!(
        matches!(&err, Error::Aws { code: Some(code), .. } if code.contains("DeliveryChannel")),
        "{err}"
    );
    let record = h.last_audit(&recorder, "AWS.Config.StartRecorder").await;
    assert_eq!(record.outcome, AuditOutcome::Failed);
    assert_eq!(record.plan["completed_calls"], 0);
    // With a delivery channel it starts.
    c.config()
        .put_delivery_channel()
        .delivery_channel(
            aws_sdk_config::types::DeliveryChannel::builder()
                .name("default")
                .s3_bucket_name("caracal-seed-0-logs")
                .build(),
        )
        .send()
        .await
        .unwrap();
    h.fix(&recorder, "AWS.Config.StartRecorder", &[], |plan| {
        assert_eq!(actions(plan), ["config:StartConfigurationRecorder"]);
        assert_eq!(plan.changes[0].field, "Status/Recording");
    })
    .await;
    let status = c.config().describe_configuration_recorder_status().send().await.unwrap();
    assert!(status.configuration_recorders_status.unwrap()[0].recording);
}
