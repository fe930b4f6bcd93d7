//! `AWS.S3.Bucket`: ListBuckets once per scanned region (filtered by `BucketRegion`, so
//! a bucket's region comes with the listing, without a GetBucketLocation per bucket, and
//! buckets in other regions are never read), then per bucket its ACL, policy, encryption,
//! versioning, logging, public access block, lifecycle, tags and object lock. Missing
//! settings become null fields. Object lock is read only when versioning is enabled or
//! unknown: S3 allows object lock only on buckets whose versioning is enabled, and never
//! lets such a bucket suspend it, so for any other bucket the answer is "not configured"
//! (null) without a call (#17).
//!
//! Where AWS Config records buckets (`[scan] source`, [`crate::inventory`]), one
//! BatchGetResourceConfig per region and 100 buckets answers the ACL, policy, versioning,
//! public access block, tags, default encryption (when the item has it), and logging and
//! lifecycle when they are off; what an item lacks or holds in another shape (logging
//! that is on, lifecycle rules, object lock, any part of a partial item) is still asked
//! per bucket. Where the item is current, the snapshot is the same either way.
//!
//! A failed detail call (say `GetBucketVersioning` answered with a document the SDK
//! rejects) keeps the bucket with everything else that was read: the fields of that call
//! are left out and the failure is listed under `caracal:errors` (#11.8b). A targeted
//! rescan of one bucket still asks GetBucketLocation; if that fails the bucket is dropped,
//! since its region is then unknown.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_s3::Client;
use caracal_core::{Resource, ResourceType};
use serde_json::{Value, json};

use super::{Collected, Collector, Described, DetailErrors, IdShape, ListingScope, Scope};
use crate::error::CollectError;
use crate::inventory::Item;
use crate::sdk::{CallResult, created, e, list, ts};

pub(crate) struct Buckets;

/// The type's name in AWS Config.
const CONFIG_TYPE: &str = "AWS::S3::Bucket";

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
            "config:DescribeConfigurationRecorders",
            "config:DescribeConfigurationRecorderStatus",
            "config:BatchGetResourceConfig",
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
        // Config items are regional: one batch read per region and 100 buckets.
        let mut known: HashMap<String, Known> = HashMap::new();
        // An item captured before the bucket's creation describes an earlier bucket of the
        // same name: the API reads the new one.
        let created: HashMap<&str, Option<i64>> = buckets
            .iter()
            .map(|b| (b.0.as_str(), b.2.as_ref().map(aws_smithy_types::DateTime::secs)))
            .collect();
        let mut config_failed = Vec::new();
        for region in scope.regions() {
            let ids: Vec<String> =
                buckets.iter().filter(|b| &b.1 == region).map(|b| b.0.clone()).collect();
            // Config failing is counted; the API then reads every bucket of the region.
            let items = scope.config_items(region, CONFIG_TYPE, &ids).await.unwrap_or_else(|e| {
                config_failed.push(e);
                HashMap::new()
            });
            known.extend(
                items
                    .iter()
                    .filter(|(id, item)| {
                        match (created.get(id.as_str()).copied().flatten(), item.captured) {
                            (Some(created), Some(captured)) => captured.timestamp() >= created,
                            _ => true,
                        }
                    })
                    .map(|(id, item)| (id.clone(), Known::from_item(item))),
            );
        }
        let (known, unknown) = (&known, &Known::default());
        let results = scope
            .each(buckets, |(name, region, creation)| async move {
                // Calls go to the bucket's own region, as AWS requires.
                let s3 = scope.clients_in(&region).s3();
                let known = known.get(&name).unwrap_or(unknown);
                describe(&s3, scope.account_id(), &region, &name, creation.as_ref(), known).await
            })
            .await;
        let mut collected = Collected::from_described(results);
        collected.partial.extend(config_failed);
        Ok(collected)
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
        describe(&s3, scope.account_id(), &region, name, None, &Known::default())
            .await
            .map(|d| Some(d.resource))
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

/// One bucket's snapshot: each part from `known` (a current AWS Config item) when it
/// carries it, else from its API call.
async fn describe(
    s3: &Client,
    account_id: &str,
    region: &str,
    name: &str,
    creation: Option<&aws_smithy_types::DateTime>,
    known: &Known,
) -> Result<Described, CollectError> {
    let on = |e: CollectError| e.on(name);
    let mut failed = DetailErrors::default();
    let acl = match &known.acl {
        Some(v) => Some(v.clone()),
        None => failed
            .keep_fields(
                &["Grants", "Owner"],
                s3.get_bucket_acl().bucket(name).send().await.op("s3:GetBucketAcl").map_err(on),
            )
            .map(|acl| {
                let grants = list(acl.grants(), |g| {
                    json!({"Grantee": g.grantee().map(grantee), "Permission": e(g.permission())})
                });
                (grants, acl.owner().map_or(Value::Null, |o| json!({"ID": o.id()})))
            }),
    };
    let policy = match &known.policy {
        Some(v) => Some(v.clone()),
        None => failed
            .keep_fields(
                &["Policy"],
                s3.get_bucket_policy()
                    .bucket(name)
                    .send()
                    .await
                    .absent("s3:GetBucketPolicy", &["NoSuchBucketPolicy"])
                    .map_err(on),
            )
            .map(|p| p.and_then(|p| p.policy).map_or(Value::Null, Value::String)),
    };
    let encryption = match &known.encryption {
        Some(v) => Some(v.clone()),
        None => failed
            .keep_fields(
                &["EncryptionRules"],
                s3.get_bucket_encryption()
                    .bucket(name)
                    .send()
                    .await
                    .absent(
                        "s3:GetBucketEncryption",
                        &["ServerSideEncryptionConfigurationNotFoundError"],
                    )
                    .map_err(on),
            )
            .map(|o| {
                o.and_then(|o| o.server_side_encryption_configuration).map_or(Value::Null, |c| {
                    list(c.rules(), |rule| {
                        encryption_rule(
                            rule.apply_server_side_encryption_by_default()
                                .map(|d| (d.sse_algorithm().as_str(), d.kms_master_key_id())),
                            rule.bucket_key_enabled(),
                        )
                    })
                })
            }),
    };
    let versioning = match &known.versioning {
        Some(v) => Some(v.clone()),
        None => failed
            .keep_fields(
                &["Versioning", "MFADelete"],
                s3.get_bucket_versioning()
                    .bucket(name)
                    .send()
                    .await
                    .op("s3:GetBucketVersioning")
                    .map_err(on),
            )
            .map(|v| (e(v.status()), e(v.mfa_delete()))),
    };
    let logging = match &known.logging {
        Some(v) => Some(v.clone()),
        None => failed
            .keep_fields(
                &["LoggingPolicy"],
                s3.get_bucket_logging()
                    .bucket(name)
                    .send()
                    .await
                    .op("s3:GetBucketLogging")
                    .map_err(on),
            )
            .map(|logging| {
                logging.logging_enabled().map_or(Value::Null, |l| {
                    json!({
                        "TargetBucket": l.target_bucket(),
                        "TargetPrefix": l.target_prefix(),
                        "TargetGrants": list(l.target_grants(), |g| json!({
                            "Grantee": g.grantee().map(grantee),
                            "Permission": e(g.permission()),
                        })),
                    })
                })
            }),
    };
    let public_access = match &known.public_access {
        Some(v) => Some(v.clone()),
        None => failed
            .keep_fields(
                &["PublicAccessBlockConfiguration"],
                s3.get_public_access_block()
                    .bucket(name)
                    .send()
                    .await
                    .absent("s3:GetPublicAccessBlock", &["NoSuchPublicAccessBlockConfiguration"])
                    .map_err(on),
            )
            .map(|p| {
                p.and_then(|p| p.public_access_block_configuration).map_or(Value::Null, |p| {
                    public_access_block([
                        p.block_public_acls(),
                        p.block_public_policy(),
                        p.ignore_public_acls(),
                        p.restrict_public_buckets(),
                    ])
                })
            }),
    };
    let lifecycle = match &known.lifecycle {
        Some(v) => Some(v.clone()),
        None => failed
            .keep_fields(
                &["LifecycleRules"],
                s3.get_bucket_lifecycle_configuration()
                    .bucket(name)
                    .send()
                    .await
                    .absent("s3:GetBucketLifecycleConfiguration", &["NoSuchLifecycleConfiguration"])
                    .map_err(on),
            )
            .map(|l| l.map_or(Value::Null, |l| list(l.rules(), lifecycle_rule))),
    };
    let tags = match &known.tags {
        Some(t) => Some(t.clone()),
        None => failed
            .keep(
                s3.get_bucket_tagging()
                    .bucket(name)
                    .send()
                    .await
                    .absent("s3:GetBucketTagging", &["NoSuchTagSet"])
                    .map_err(on),
            )
            .map(|t| {
                t.map(|t| {
                    t.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect()
                })
                .unwrap_or_default()
            }),
    };
    // Object lock needs versioning enabled (and keeps it enabled): any other known
    // versioning state means no object lock configuration, without asking.
    let lock_possible = versioning.as_ref().is_none_or(|(status, _)| *status == "Enabled");
    let object_lock = if lock_possible {
        failed
            .keep_fields(
                &["ObjectLockConfiguration"],
                s3.get_object_lock_configuration()
                    .bucket(name)
                    .send()
                    .await
                    .absent(
                        "s3:GetObjectLockConfiguration",
                        &["ObjectLockConfigurationNotFoundError"],
                    )
                    .map_err(on),
            )
            .map(|o| {
                o.and_then(|o| o.object_lock_configuration).map_or(Value::Null, |c| {
                    json!({
                        "ObjectLockEnabled": e(c.object_lock_enabled()),
                        "Rule": c.rule().and_then(|r| r.default_retention()).map(|d| json!({
                            "DefaultRetention": {"Mode": e(d.mode()), "Days": d.days(), "Years": d.years()},
                        })),
                    })
                })
            })
    } else {
        Some(Value::Null)
    };

    let arn = format!("arn:aws:s3:::{name}");
    let mut r = Resource::new(&arn, ResourceType::S3_BUCKET, account_id, region);
    r.arn = Some(arn);
    r.name = Some(name.to_owned());
    r.time_created = created(creation);
    r.tags = tags.unwrap_or_default();
    if let Some((grants, owner)) = acl {
        r = r.with("Grants", grants).with("Owner", owner);
    }
    if let Some((status, mfa_delete)) = versioning {
        r = r.with("Versioning", status).with("MFADelete", mfa_delete);
    }
    for (field, value) in [
        ("Policy", policy),
        ("EncryptionRules", encryption),
        ("LoggingPolicy", logging),
        ("PublicAccessBlockConfiguration", public_access),
        ("LifecycleRules", lifecycle),
        ("ObjectLockConfiguration", object_lock),
    ] {
        if let Some(value) = value {
            r = r.with(field, value);
        }
    }
    Ok(failed.finish(r))
}

/// One default encryption rule: `(algorithm, KMS key)` and the bucket key flag.
fn encryption_rule(default: Option<(&str, Option<&str>)>, bucket_key: Option<bool>) -> Value {
    json!({
        "ApplyServerSideEncryptionByDefault": default.map(|(algorithm, key)| json!({
            "SSEAlgorithm": algorithm,
            "KMSMasterKeyID": key,
        })),
        "BucketKeyEnabled": bucket_key,
    })
}

/// The public access block's four settings, in the order BlockPublicAcls,
/// BlockPublicPolicy, IgnorePublicAcls, RestrictPublicBuckets; unset is false.
fn public_access_block(flags: [Option<bool>; 4]) -> Value {
    let [block_acls, block_policy, ignore_acls, restrict] = flags.map(|f| f.unwrap_or(false));
    json!({
        "BlockPublicAcls": block_acls,
        "BlockPublicPolicy": block_policy,
        "IgnorePublicAcls": ignore_acls,
        "RestrictPublicBuckets": restrict,
    })
}

fn lifecycle_rule(rule: &aws_sdk_s3::types::LifecycleRule) -> Value {
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
}

/// A grantee. S3 stopped returning display names in October 2025 (and AWS Config never
/// had them), so the snapshot names grantees and the owner by canonical id only.
fn grantee(g: &aws_sdk_s3::types::Grantee) -> Value {
    json!({
        "EmailAddress": g.email_address(),
        "ID": g.id(),
        "Type": g.r#type().as_str(),
        "URI": g.uri(),
    })
}

/// What a current AWS Config item tells of a bucket, in the snapshot's terms. A `None`
/// part is read through the API: the item lacks it, or holds it in a form that does not
/// map to exactly what the API answers (logging target grants, lifecycle rules).
#[derive(Debug, Default, Clone, PartialEq)]
struct Known {
    /// `(Grants, Owner)`.
    acl: Option<(Value, Value)>,
    policy: Option<Value>,
    encryption: Option<Value>,
    /// `(Versioning, MFADelete)`.
    versioning: Option<(Value, Value)>,
    logging: Option<Value>,
    public_access: Option<Value>,
    lifecycle: Option<Value>,
    tags: Option<BTreeMap<String, String>>,
}

impl Known {
    /// Maps an item's supplementary configuration. Config always records a bucket's ACL,
    /// policy, versioning and logging; it lists the public access block, lifecycle and
    /// tags only when they are set, so their absence means "not configured".
    fn from_item(item: &Item) -> Self {
        let entry = |key: &str| item.supplementary(key);
        // Absence means "not configured" only in a whole item: one that lacks the entries
        // Config always records is partial, and leaves those parts to the API.
        let whole = entry("AccessControlList").is_some() && entry("BucketPolicy").is_some();
        let absent_is_null = |key: &str| match entry(key) {
            None | Some(Value::Null) if whole => Some(Value::Null),
            _ => None,
        };
        Self {
            acl: entry("AccessControlList").and_then(config_acl),
            policy: entry("BucketPolicy")
                .and_then(|p| p.get("policyText"))
                .filter(|t| t.is_string() || t.is_null())
                .cloned(),
            encryption: entry("ServerSideEncryptionConfiguration").and_then(config_encryption),
            versioning: entry("BucketVersioningConfiguration").and_then(config_versioning),
            // Logging on: the API also names the target grants, which Config leaves out.
            logging: entry("BucketLoggingConfiguration")
                .filter(|l| l.get("destinationBucketName").is_some_and(Value::is_null))
                .map(|_| Value::Null),
            public_access: match entry("PublicAccessBlockConfiguration") {
                None | Some(Value::Null) => absent_is_null("PublicAccessBlockConfiguration"),
                // All four settings, or the API: a partial entry never reads as "off".
                Some(p) => {
                    let flag = |k: &str| p.get(k).and_then(Value::as_bool);
                    match [
                        flag("blockPublicAcls"),
                        flag("blockPublicPolicy"),
                        flag("ignorePublicAcls"),
                        flag("restrictPublicBuckets"),
                    ] {
                        flags @ [Some(_), Some(_), Some(_), Some(_)] => {
                            Some(public_access_block(flags))
                        }
                        _ => None,
                    }
                }
            },
            // Rules present: read through the API, whose shape the snapshot keeps.
            lifecycle: absent_is_null("BucketLifecycleConfiguration"),
            tags: match entry("BucketTaggingConfiguration") {
                None | Some(Value::Null) => whole.then(BTreeMap::new),
                // Every value a string, or the API.
                Some(t) => {
                    t.pointer("/tagSets/0/tags").and_then(Value::as_object).and_then(|tags| {
                        tags.iter()
                            .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                            .collect()
                    })
                }
            },
        }
    }
}

/// Config's `AccessControlList` as `(Grants, Owner)`; `None` for anything unexpected.
fn config_acl(acl: &Value) -> Option<(Value, Value)> {
    let owner = acl.pointer("/owner/id")?.as_str()?;
    // `grantList` keeps the ACL's order; a `grantSet` (unordered) or neither is left to
    // the API, so a partial item never reads as "no grants".
    let grants = acl.get("grantList")?.as_array()?;
    let mut out = Vec::with_capacity(grants.len());
    for g in grants {
        let permission = match g.get("permission")?.as_str()? {
            "FullControl" => "FULL_CONTROL",
            "Read" => "READ",
            "Write" => "WRITE",
            "ReadAcp" => "READ_ACP",
            "WriteAcp" => "WRITE_ACP",
            _ => return None,
        };
        let grantee = match g.get("grantee")? {
            Value::String(group) => {
                let uri = match group.as_str() {
                    "AllUsers" => "http://acs.amazonaws.com/groups/global/AllUsers",
                    "AuthenticatedUsers" => {
                        "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
                    }
                    "LogDelivery" => "http://acs.amazonaws.com/groups/s3/LogDelivery",
                    _ => return None,
                };
                json!({"EmailAddress": null, "ID": null, "Type": "Group", "URI": uri})
            }
            Value::Object(user) => {
                let id = user.get("id")?.as_str()?;
                json!({"EmailAddress": null, "ID": id, "Type": "CanonicalUser", "URI": null})
            }
            _ => return None,
        };
        out.push(json!({"Grantee": grantee, "Permission": permission}));
    }
    Some((Value::Array(out), json!({"ID": owner})))
}

/// Config's `ServerSideEncryptionConfiguration` as `EncryptionRules`.
fn config_encryption(sse: &Value) -> Option<Value> {
    let rules = sse.get("rules")?.as_array()?;
    Some(Value::Array(
        rules
            .iter()
            .map(|rule| {
                let default = rule.get("applyServerSideEncryptionByDefault").and_then(|d| {
                    Some((
                        d.get("sseAlgorithm")?.as_str()?,
                        d.get("kmsMasterKeyID").and_then(Value::as_str),
                    ))
                });
                encryption_rule(default, rule.get("bucketKeyEnabled").and_then(Value::as_bool))
            })
            .collect(),
    ))
}

/// Config's `BucketVersioningConfiguration` as `(Versioning, MFADelete)`: status `Off`
/// is a bucket that never had versioning (null, as GetBucketVersioning answers).
fn config_versioning(v: &Value) -> Option<(Value, Value)> {
    let status = match v.get("status")?.as_str()? {
        "Off" => Value::Null,
        s @ ("Enabled" | "Suspended") => Value::String(s.to_owned()),
        _ => return None,
    };
    let mfa_delete = match v.get("isMfaDeleteEnabled") {
        Some(Value::Bool(true)) => json!("Enabled"),
        Some(Value::Bool(false)) => json!("Disabled"),
        _ => Value::Null,
    };
    Some((status, mfa_delete))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::decode;

    /// An item in the shape AWS Config answers for a bucket (BatchGetResourceConfig's
    /// supplementary entries are JSON texts; the ACL is encoded twice).
    fn item(entries: &[(&str, Value)]) -> Item {
        let acl = json!({
            "grantSet": null,
            "grantList": [
                {"grantee": {"id": "abc123", "displayName": null}, "permission": "FullControl", "referenceId": null},
                {"grantee": "AllUsers", "permission": "Read", "referenceId": null},
                {"grantee": "LogDelivery", "permission": "WriteAcp", "referenceId": null}
            ],
            "owner": {"displayName": null, "id": "abc123"},
            "isRequesterCharged": false
        });
        let mut supplementary: HashMap<String, Value> = HashMap::from([
            ("AccessControlList".to_owned(), decode(&json!(acl.to_string()).to_string())),
            ("BucketPolicy".to_owned(), json!({"policyText": null})),
            (
                "BucketVersioningConfiguration".to_owned(),
                json!({"status": "Off", "isMfaDeleteEnabled": null}),
            ),
            (
                "BucketLoggingConfiguration".to_owned(),
                json!({"destinationBucketName": null, "logFilePrefix": null}),
            ),
            ("IsRequesterPaysEnabled".to_owned(), json!(false)),
        ]);
        for (k, v) in entries {
            supplementary.insert((*k).to_owned(), v.clone());
        }
        Item { status: Some("OK".to_owned()), captured: None, supplementary }
    }

    #[test]
    fn an_item_maps_to_the_api_shapes() {
        let known = Known::from_item(&item(&[]));
        let (grants, owner) = known.acl.clone().unwrap_or_default();
        assert_eq!(owner, json!({"ID": "abc123"}));
        assert_eq!(
            grants,
            json!([
                {"Grantee": {"EmailAddress": null, "ID": "abc123", "Type": "CanonicalUser", "URI": null}, "Permission": "FULL_CONTROL"},
                {"Grantee": {"EmailAddress": null, "ID": null, "Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"},
                {"Grantee": {"EmailAddress": null, "ID": null, "Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"}, "Permission": "WRITE_ACP"},
            ])
        );
        assert_eq!(known.policy, Some(Value::Null));
        assert_eq!(known.versioning, Some((Value::Null, Value::Null)));
        assert_eq!(known.logging, Some(Value::Null));
        // Listed only when set: absent means not configured.
        assert_eq!(known.public_access, Some(Value::Null));
        assert_eq!(known.lifecycle, Some(Value::Null));
        assert_eq!(known.tags, Some(BTreeMap::new()));
        // Not in this item: asked through the API.
        assert_eq!(known.encryption, None);
    }

    #[test]
    fn set_configurations_map_or_go_to_the_api() {
        let known = Known::from_item(&item(&[
            ("BucketPolicy", json!({"policyText": "{\"Version\":\"2012-10-17\"}"})),
            (
                "BucketVersioningConfiguration",
                json!({"status": "Enabled", "isMfaDeleteEnabled": false}),
            ),
            (
                "BucketLoggingConfiguration",
                json!({"destinationBucketName": "logs", "logFilePrefix": "b/"}),
            ),
            (
                "PublicAccessBlockConfiguration",
                json!({"blockPublicAcls": true, "ignorePublicAcls": true, "blockPublicPolicy": false, "restrictPublicBuckets": true}),
            ),
            ("BucketLifecycleConfiguration", json!({"rules": [{"id": "expire"}]})),
            ("BucketTaggingConfiguration", json!({"tagSets": [{"tags": {"team": "a"}}]})),
            (
                "ServerSideEncryptionConfiguration",
                json!({"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyID": "k"}, "bucketKeyEnabled": true}]}),
            ),
        ]));
        assert_eq!(known.policy, Some(json!("{\"Version\":\"2012-10-17\"}")));
        assert_eq!(known.versioning, Some((json!("Enabled"), json!("Disabled"))));
        assert_eq!(known.logging, None, "target grants come from the API");
        assert_eq!(
            known.public_access,
            Some(
                json!({"BlockPublicAcls": true, "BlockPublicPolicy": false, "IgnorePublicAcls": true, "RestrictPublicBuckets": true})
            )
        );
        assert_eq!(known.lifecycle, None, "rules come from the API");
        assert_eq!(known.tags, Some(BTreeMap::from([("team".to_owned(), "a".to_owned())])));
        assert_eq!(
            known.encryption,
            Some(
                json!([{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "k"}, "BucketKeyEnabled": true}])
            )
        );
    }

    #[test]
    fn unexpected_entries_go_to_the_api() {
        let odd = Known::from_item(&item(&[
            (
                "AccessControlList",
                json!({"owner": {"id": "o"}, "grantList": [{"grantee": "Martians", "permission": "Read"}]}),
            ),
            ("BucketVersioningConfiguration", json!({"status": "Sideways"})),
        ]));
        assert_eq!(odd.acl, None);
        assert_eq!(odd.versioning, None);
        let partial = Known::from_item(&item(&[
            (
                "AccessControlList",
                json!({"owner": {"id": "o"}, "grantSet": [{"grantee": "AllUsers", "permission": "Read"}]}),
            ),
            ("PublicAccessBlockConfiguration", json!({"blockPublicAcls": true})),
            ("BucketTaggingConfiguration", json!({"tagSets": [{"tags": {"n": 1}}]})),
            (
                "BucketVersioningConfiguration",
                json!({"status": "Suspended", "isMfaDeleteEnabled": true}),
            ),
        ]));
        assert_eq!(partial.acl, None, "an unordered grant set goes to the API");
        assert_eq!(partial.public_access, None, "a partial block goes to the API");
        assert_eq!(partial.tags, None);
        assert_eq!(partial.versioning, Some((json!("Suspended"), json!("Enabled"))));
        let no_grants =
            Known::from_item(&item(&[("AccessControlList", json!({"owner": {"id": "o"}}))]));
        assert_eq!(no_grants.acl, None, "an ACL without its grant list is not no grants");
        let mut bare = item(&[]);
        bare.supplementary.clear();
        let known = Known::from_item(&bare);
        assert_eq!(
            (known.acl, known.policy, known.versioning, known.logging),
            (None, None, None, None)
        );
        // A partial item: absent entries are not "not configured".
        assert_eq!((known.public_access, known.lifecycle, known.tags), (None, None, None));
    }
}
