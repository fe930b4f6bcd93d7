//! S3 remediations against the emulator, on the seeder's buckets.

mod common;

use aws_sdk_s3::types::BucketVersioningStatus;
use common::{Harness, actions, bucket_arn};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn s3_remediations_fix_the_seeded_buckets_once() {
    let h = Harness::start().await;
    let s3 = h.clients().s3();
    let plain = "caracal-seed-0-plain";
    let public_acl = "caracal-seed-0-public-acl";

    // Block public access.
    h.fix(&bucket_arn(plain), "AWS.S3.BlockBucketPublicAccess", &[], |plan| {
        assert_eq!(actions(plan), ["s3:PutPublicAccessBlock"]);
        assert_eq!(plan.calls[0].params["Bucket"], plain);
        assert_eq!(
            plan.calls[0].params["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"],
            true
        );
        assert_eq!(plan.changes[0].field, "PublicAccessBlockConfiguration");
        assert_eq!(plan.changes[0].before, json!(null));
    })
    .await;
    let pab = s3.get_public_access_block().bucket(plain).send().await.unwrap();
    let pab = pab.public_access_block_configuration.unwrap();
    assert_eq!(
        (
            pab.block_public_acls,
            pab.ignore_public_acls,
            pab.block_public_policy,
            pab.restrict_public_buckets
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );

    // Versioning.
    h.fix(&bucket_arn(plain), "AWS.S3.EnableBucketVersioning", &[], |plan| {
        assert_eq!(actions(plan), ["s3:PutBucketVersioning"]);
        assert_eq!(plan.calls[0].params["VersioningConfiguration"], json!({"Status": "Enabled"}));
        assert_eq!(
            (&plan.changes[0].before, &plan.changes[0].after),
            (&json!(null), &json!("Enabled"))
        );
    })
    .await;
    let v = s3.get_bucket_versioning().bucket(plain).send().await.unwrap();
    assert_eq!(v.status, Some(BucketVersioningStatus::Enabled));

    // Default encryption, SSE-KMS with a key.
    let key = &h.manifest.kms_keys[0].arn;
    h.fix(
        &bucket_arn(plain),
        "AWS.S3.EnableBucketDefaultEncryption",
        &[("algorithm", json!("aws:kms")), ("kms_key_id", json!(key))],
        |plan| {
            assert_eq!(actions(plan), ["s3:PutBucketEncryption"]);
            let d = &plan.calls[0].params["ServerSideEncryptionConfiguration"]["Rules"][0]
                ["ApplyServerSideEncryptionByDefault"];
            assert_eq!(d, &json!({"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}));
        },
    )
    .await;
    let enc = s3.get_bucket_encryption().bucket(plain).send().await.unwrap();
    let rule = &enc.server_side_encryption_configuration.unwrap().rules[0];
    let d = rule.apply_server_side_encryption_by_default.as_ref().unwrap();
    assert_eq!(
        (d.sse_algorithm.as_str(), d.kms_master_key_id.as_deref()),
        ("aws:kms", Some(key.as_str()))
    );

    // Default encryption, SSE-S3 (the default) on the public-ACL bucket.
    h.fix(&bucket_arn(public_acl), "AWS.S3.EnableBucketDefaultEncryption", &[], |plan| {
        assert_eq!(plan.parameters, json!({"algorithm": "AES256"}));
    })
    .await;

    // Access logging into the seeded log bucket.
    let logs = "caracal-seed-0-logs";
    h.fix(
        &bucket_arn(plain),
        "AWS.S3.EnableBucketAccessLogging",
        &[("target_bucket", json!(logs))],
        |plan| {
            assert_eq!(actions(plan), ["s3:PutBucketLogging"]);
            assert_eq!(
                plan.calls[0].params["BucketLoggingStatus"]["LoggingEnabled"],
                json!({"TargetBucket": logs, "TargetPrefix": format!("{plain}/")})
            );
        },
    )
    .await;
    let logging = s3.get_bucket_logging().bucket(plain).send().await.unwrap();
    assert_eq!(logging.logging_enabled.unwrap().target_bucket, logs);

    // ACL private: the AllUsers grant goes, the owner's FULL_CONTROL stays.
    h.fix(&bucket_arn(public_acl), "AWS.S3.MakeBucketAclPrivate", &[], |plan| {
        assert_eq!(actions(plan), ["s3:PutBucketAcl"]);
        let grants = plan.calls[0].params["AccessControlPolicy"]["Grants"].as_array().unwrap();
        assert!(grants.iter().all(|g| g["Grantee"]["URI"].is_null()), "{grants:?}");
        assert!(grants.iter().any(|g| g["Permission"] == "FULL_CONTROL"));
    })
    .await;
    let acl = s3.get_bucket_acl().bucket(public_acl).send().await.unwrap();
    let grants = acl.grants.unwrap_or_default();
    assert!(grants.iter().all(|g| g.grantee.as_ref().and_then(|e| e.uri.as_deref()).is_none()));
    assert!(!grants.is_empty(), "the owner's grant was kept");
}
