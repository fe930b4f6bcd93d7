//! `AWS.S3.Bucket`: ListBuckets once per scanned region (filtered by `BucketRegion`, so
//! a bucket's region comes with the listing, without a GetBucketLocation per bucket, and
//! buckets in other regions are never read), then per bucket its ACL, policy, encryption,
//! versioning, logging, public access block, lifecycle, tags and object lock. Missing
//! settings become null fields. Object lock is read only when versioning is enabled or
//! unknown: S3 allows object lock only on buckets whose versioning is enabled, and never
//! lets such a bucket suspend it, so for any other bucket the answer is "not configured"
//! (null) without a call (#17).
//!
//! A failed detail call (say `GetBucketVersioning` answered with a document the SDK
//! rejects) keeps the bucket with everything else that was read: the fields of that call
//! are left out and the failure is listed under `caracal:errors` (#11.8b). A targeted
//! rescan of one bucket still asks GetBucketLocation; if that fails the bucket is dropped,
//! since its region is then unknown.

use async_trait::async_trait;
use std::collections::HashSet;

use aws_sdk_s3::Client;
use aws_sdk_s3::types::BucketVersioningStatus;
use caracal_core::{Resource, ResourceType};
use serde_json::{Value, json};

use super::{Collected, Collector, Described, DetailErrors, IdShape, ListingScope, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, e, list, ts};

pub(crate) struct Buckets;

#[async_trait]
impl Collector for Buckets {
    fn resource_type(&self) -> &'static str {
        ResourceType::S3_BUCKET
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "s3", prefix: "" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "s3:ListAllMyBuckets",
            "s3:GetBucketLocation",
            "s3:GetBucketAcl",
            "s3:GetBucketPolicy",
            "s3:GetEncryptionConfiguration",
            "s3:GetBucketVersioning",
            "s3:GetBucketLogging",
            "s3:GetBucketPublicAccessBlock",
            "s3:GetLifecycleConfiguration",
            "s3:GetBucketTagging",
            "s3:GetBucketObjectLockConfiguration",
        ]
    }

    fn listing_scope(&self) -> ListingScope {
        ListingScope::AccountWide
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let s3 = scope.clients().s3();
        let mut buckets = Vec::new();
        let mut listed = HashSet::new();
        for region in scope.regions() {
            let mut pages = s3.list_buckets().bucket_region(region).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.op("s3:ListBuckets")?;
                for b in page.buckets() {
                    // AWS names each bucket's region when the request filters by one; the
                    // filter itself says it where the answer does not (the emulator).
                    let bucket_region = b.bucket_region().unwrap_or(region);
                    let Some(name) = b.name() else { continue };
                    if scope.regions().iter().any(|r| r == bucket_region)
                        && listed.insert(name.to_owned())
                    {
                        buckets.push((
                            name.to_owned(),
                            bucket_region.to_owned(),
                            b.creation_date().copied(),
                        ));
                    }
                }
            }
        }
        let results = scope
            .each(buckets, |(name, region, creation)| async move {
                // Calls go to the bucket's own region, as AWS requires.
                let s3 = scope.clients_in(&region).s3();
                describe(&s3, scope.account_id(), &region, &name, creation.as_ref()).await
            })
            .await;
        Ok(Collected::from_described(results))
    }

    async fn collect_one(
        &self,
        scope: &Scope,
        resource_id: &str,
    ) -> Result<Option<Resource>, CollectError> {
        let name = resource_id.strip_prefix("arn:aws:s3:::").unwrap_or(resource_id);
        let s3 = scope.clients().s3();
        let Some(region) = location(&s3, name).await? else { return Ok(None) };
        let s3 = scope.clients_in(&region).s3();
        describe(&s3, scope.account_id(), &region, name, None).await.map(|d| Some(d.resource))
    }
}

/// The bucket's region; `None` when the bucket no longer exists.
async fn location(s3: &Client, name: &str) -> Result<Option<String>, CollectError> {
    let out = s3
        .get_bucket_location()
        .bucket(name)
        .send()
        .await
        .absent("s3:GetBucketLocation", &["NoSuchBucket"])
        .map_err(|e| e.on(name))?;
    Ok(out.map(|o| match o.location_constraint().map(|c| c.as_str()) {
        None | Some("") => "us-east-1".to_owned(),
        Some("EU") => "eu-west-1".to_owned(),
        Some(other) => other.to_owned(),
    }))
}

async fn describe(
    s3: &Client,
    account_id: &str,
    region: &str,
    name: &str,
    creation: Option<&aws_smithy_types::DateTime>,
) -> Result<Described, CollectError> {
    let on = |e: CollectError| e.on(name);
    let mut failed = DetailErrors::default();
    let acl = failed.keep_fields(
        &["Grants", "Owner"],
        s3.get_bucket_acl().bucket(name).send().await.op("s3:GetBucketAcl").map_err(on),
    );
    let policy = failed.keep_fields(
        &["Policy"],
        s3.get_bucket_policy()
            .bucket(name)
            .send()
            .await
            .absent("s3:GetBucketPolicy", &["NoSuchBucketPolicy"])
            .map_err(on),
    );
    let encryption = failed.keep_fields(
        &["EncryptionRules"],
        s3.get_bucket_encryption()
            .bucket(name)
            .send()
            .await
            .absent("s3:GetBucketEncryption", &["ServerSideEncryptionConfigurationNotFoundError"])
            .map_err(on),
    );
    let versioning = failed.keep_fields(
        &["Versioning", "MFADelete"],
        s3.get_bucket_versioning()
            .bucket(name)
            .send()
            .await
            .op("s3:GetBucketVersioning")
            .map_err(on),
    );
    let logging = failed.keep_fields(
        &["LoggingPolicy"],
        s3.get_bucket_logging().bucket(name).send().await.op("s3:GetBucketLogging").map_err(on),
    );
    let public_access = failed.keep_fields(
        &["PublicAccessBlockConfiguration"],
        s3.get_public_access_block()
            .bucket(name)
            .send()
            .await
            .absent("s3:GetPublicAccessBlock", &["NoSuchPublicAccessBlockConfiguration"])
            .map_err(on),
    );
    let lifecycle = failed.keep_fields(
        &["LifecycleRules"],
        s3.get_bucket_lifecycle_configuration()
            .bucket(name)
            .send()
            .await
            .absent("s3:GetBucketLifecycleConfiguration", &["NoSuchLifecycleConfiguration"])
            .map_err(on),
    );
    let tagging = failed.keep(
        s3.get_bucket_tagging()
            .bucket(name)
            .send()
            .await
            .absent("s3:GetBucketTagging", &["NoSuchTagSet"])
            .map_err(on),
    );
    // Object lock needs versioning enabled (and keeps it enabled): any other known
    // versioning state means no object lock configuration, without asking.
    let lock_possible =
        versioning.as_ref().is_none_or(|v| v.status() == Some(&BucketVersioningStatus::Enabled));
    let object_lock = if lock_possible {
        failed.keep_fields(
            &["ObjectLockConfiguration"],
            s3.get_object_lock_configuration()
                .bucket(name)
                .send()
                .await
                .absent("s3:GetObjectLockConfiguration", &["ObjectLockConfigurationNotFoundError"])
                .map_err(on),
        )
    } else {
        Some(None)
    };

    let arn = format!("arn:aws:s3:::{name}");
    let mut r = Resource::new(&arn, ResourceType::S3_BUCKET, account_id, region);
    r.arn = Some(arn);
    r.name = Some(name.to_owned());
    r.time_created = created(creation);
    r.tags = tagging
        .flatten()
        .map(|t| t.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect())
        .unwrap_or_default();
    if let Some(acl) = acl {
        r = r
            .with(
                "Grants",
                list(acl.grants(), |g| {
                    json!({"Grantee": g.grantee().map(grantee), "Permission": e(g.permission())})
                }),
            )
            .with(
                "Owner",
                acl.owner()
                    .map_or(Value::Null, |o| json!({"DisplayName": o.display_name(), "ID": o.id()})),
            );
    }
    if let Some(policy) = policy {
        r = r.with("Policy", policy.and_then(|p| p.policy));
    }
    if let Some(encryption) = encryption {
        let rules = encryption.and_then(|o| o.server_side_encryption_configuration).map(|c| {
            list(c.rules(), |rule| {
                json!({
                    "ApplyServerSideEncryptionByDefault": rule.apply_server_side_encryption_by_default().map(|d| json!({
                        "SSEAlgorithm": d.sse_algorithm().as_str(),
                        "KMSMasterKeyID": d.kms_master_key_id(),
                    })),
                    "BucketKeyEnabled": rule.bucket_key_enabled(),
                })
            })
        });
        r = r.with("EncryptionRules", rules);
    }
    if let Some(versioning) = versioning {
        r = r
            .with("Versioning", e(versioning.status()))
            .with("MFADelete", e(versioning.mfa_delete()));
    }
    if let Some(logging) = logging {
        let policy = logging.logging_enabled().map(|l| {
            json!({
                "TargetBucket": l.target_bucket(),
                "TargetPrefix": l.target_prefix(),
                "TargetGrants": list(l.target_grants(), |g| json!({
                    "Grantee": g.grantee().map(grantee),
                    "Permission": e(g.permission()),
                })),
            })
        });
        r = r.with("LoggingPolicy", policy);
    }
    if let Some(public_access) = public_access {
        let block = public_access.and_then(|p| p.public_access_block_configuration).map(|p| {
            json!({
                "BlockPublicAcls": p.block_public_acls().unwrap_or(false),
                "BlockPublicPolicy": p.block_public_policy().unwrap_or(false),
                "IgnorePublicAcls": p.ignore_public_acls().unwrap_or(false),
                "RestrictPublicBuckets": p.restrict_public_buckets().unwrap_or(false),
            })
        });
        r = r.with("PublicAccessBlockConfiguration", block);
    }
    if let Some(lifecycle) = lifecycle {
        let rules = lifecycle.map(|l| {
            list(l.rules(), |rule| {
                json!({
                    "ID": rule.id(),
                    "Status": rule.status().as_str(),
                    "Filter": rule.filter().map(|f| json!({"Prefix": f.prefix()})),
                    "Expiration": rule.expiration().map(|x| json!({
                        "Days": x.days(),
                        "Date": ts(x.date()),
                        "ExpiredObjectDeleteMarker": x.expired_object_delete_marker(),
                    })),
                    "Transitions": list(rule.transitions(), |t| json!({
                        "Days": t.days(), "Date": ts(t.date()), "StorageClass": e(t.storage_class()),
                    })),
                    "NoncurrentVersionExpiration": rule.noncurrent_version_expiration().map(|x| json!({
                        "NoncurrentDays": x.noncurrent_days(),
                    })),
                    "AbortIncompleteMultipartUpload": rule.abort_incomplete_multipart_upload().map(|x| json!({
                        "DaysAfterInitiation": x.days_after_initiation(),
                    })),
                })
            })
        });
        r = r.with("LifecycleRules", rules);
    }
    if let Some(object_lock) = object_lock {
        let lock = object_lock.and_then(|o| o.object_lock_configuration).map(|c| {
            json!({
                "ObjectLockEnabled": e(c.object_lock_enabled()),
                "Rule": c.rule().and_then(|r| r.default_retention()).map(|d| json!({
                    "DefaultRetention": {"Mode": e(d.mode()), "Days": d.days(), "Years": d.years()},
                })),
            })
        });
        r = r.with("ObjectLockConfiguration", lock);
    }
    Ok(failed.finish(r))
}

fn grantee(g: &aws_sdk_s3::types::Grantee) -> Value {
    json!({
        "DisplayName": g.display_name(),
        "EmailAddress": g.email_address(),
        "ID": g.id(),
        "Type": g.r#type().as_str(),
        "URI": g.uri(),
    })
}
