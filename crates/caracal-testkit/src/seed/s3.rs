//! S3: per unit the buckets `public-acl`, `public-policy`, `plain`, `compliant` and
//! `logs`; [`create_bucket`] is shared with the account singletons.

use aws_sdk_s3::types::{
    BucketLoggingStatus, BucketVersioningStatus, CreateBucketConfiguration, LoggingEnabled,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use caracal_aws::Clients;

use super::error::call;
use super::{SeedError, SeededBucket};

/// Creates a bucket in `region`.
pub(super) async fn create_bucket(
    s3: &aws_sdk_s3::Client,
    name: &str,
    region: &str,
) -> Result<(), SeedError> {
    let mut req = s3.create_bucket().bucket(name);
    if region != "us-east-1" {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder().location_constraint(region.into()).build(),
        );
    }
    req.send().await.map_err(call(format!("bucket {name}")))?;
    Ok(())
}

const LOG_DELIVERY: &str = "uri=http://acs.amazonaws.com/groups/s3/LogDelivery";

async fn owner_id(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<String, SeedError> {
    let acl = s3
        .get_bucket_acl()
        .bucket(bucket)
        .send()
        .await
        .map_err(call(format!("ACL of {bucket}")))?;
    acl.owner.and_then(|o| o.id).ok_or_else(|| SeedError::Call {
        what: format!("ACL of {bucket}"),
        reason: "no owner id".into(),
    })
}

pub(super) async fn encrypt(s3: &aws_sdk_s3::Client, name: &str) -> Result<(), SeedError> {
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()
                .map_err(call(format!("encryption rule for {name}")))?,
        )
        .build();
    let conf = ServerSideEncryptionConfiguration::builder()
        .rules(rule)
        .build()
        .map_err(call(format!("encryption config for {name}")))?;
    s3.put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(conf)
        .send()
        .await
        .map_err(call(format!("encryption of {name}")))?;
    Ok(())
}

pub(super) async fn version(s3: &aws_sdk_s3::Client, name: &str) -> Result<(), SeedError> {
    s3.put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(
            VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build(),
        )
        .send()
        .await
        .map_err(call(format!("versioning of {name}")))?;
    Ok(())
}

/// Unit `i`'s buckets.
pub(super) async fn seed(c: &Clients, i: u32) -> Result<Vec<SeededBucket>, SeedError> {
    let s3 = c.s3();
    let region = c.region();
    let name = |kind: &str| format!("caracal-seed-{i}-{kind}");
    let bucket = |kind: &str| SeededBucket {
        name: name(kind),
        public_acl: false,
        public_policy: false,
        encrypted: false,
        versioned: false,
        public_access_block: false,
        logging: false,
        tls_only: false,
    };

    // The log target first: logging to it needs the log-delivery grants.
    let logs = name("logs");
    create_bucket(&s3, &logs, region).await?;
    s3.put_bucket_acl()
        .bucket(&logs)
        .grant_write(LOG_DELIVERY)
        .grant_read_acp(LOG_DELIVERY)
        .grant_full_control(format!("id={}", owner_id(&s3, &logs).await?))
        .send()
        .await
        .map_err(call(format!("log-delivery ACL of {logs}")))?;
    encrypt(&s3, &logs).await?;
    version(&s3, &logs).await?;

    let public_acl = name("public-acl");
    create_bucket(&s3, &public_acl, region).await?;
    // Explicit grants: the canned public-read-write ACL reads back as READ only (EMULATOR.md).
    s3.put_bucket_acl()
        .bucket(&public_acl)
        .grant_read("uri=http://acs.amazonaws.com/groups/global/AllUsers")
        .grant_full_control(format!("id={}", owner_id(&s3, &public_acl).await?))
        .send()
        .await
        .map_err(call(format!("public ACL of {public_acl}")))?;

    let public_policy = name("public-policy");
    create_bucket(&s3, &public_policy, region).await?;
    encrypt(&s3, &public_policy).await?;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{public_policy}/*"}}]}}"#
    );
    s3.put_bucket_policy()
        .bucket(&public_policy)
        .policy(policy)
        .send()
        .await
        .map_err(call(format!("policy of {public_policy}")))?;

    let plain = name("plain");
    create_bucket(&s3, &plain, region).await?;

    let compliant = name("compliant");
    create_bucket(&s3, &compliant, region).await?;
    encrypt(&s3, &compliant).await?;
    version(&s3, &compliant).await?;
    s3.put_public_access_block()
        .bucket(&compliant)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .block_public_policy(true)
                .ignore_public_acls(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(call(format!("public access block of {compliant}")))?;
    s3.put_bucket_logging()
        .bucket(&compliant)
        .bucket_logging_status(
            BucketLoggingStatus::builder()
                .logging_enabled(
                    LoggingEnabled::builder()
                        .target_bucket(&logs)
                        .target_prefix(format!("{compliant}/"))
                        .build()
                        .map_err(call(format!("logging config of {compliant}")))?,
                )
                .build(),
        )
        .send()
        .await
        .map_err(call(format!("logging of {compliant}")))?;
    // TLS only: plain-HTTP requests are denied to everyone.
    let tls_only = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"TlsOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::{compliant}","arn:aws:s3:::{compliant}/*"],"Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#
    );
    s3.put_bucket_policy()
        .bucket(&compliant)
        .policy(tls_only)
        .send()
        .await
        .map_err(call(format!("policy of {compliant}")))?;

    Ok(vec![
        SeededBucket { public_acl: true, ..bucket("public-acl") },
        SeededBucket { public_policy: true, encrypted: true, ..bucket("public-policy") },
        bucket("plain"),
        SeededBucket {
            encrypted: true,
            versioned: true,
            public_access_block: true,
            logging: true,
            tls_only: true,
            ..bucket("compliant")
        },
        SeededBucket { encrypted: true, versioned: true, ..bucket("logs") },
    ])
}
