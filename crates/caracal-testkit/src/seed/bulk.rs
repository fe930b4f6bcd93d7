//! The [`Mix::Realistic`](super::Mix::Realistic) filler: per unit, beside the
//! misconfigured resources, what a real account holds many of, so that a benchmark at
//! scale 50 scans an account of realistic size and proportions (#17): 15 more buckets
//! in mixed configurations, 4 more security groups, 5 more users, one more role,
//! 3 more instances (each with its root volume) and 2 more keys.

use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType as Ec2ResourceType, Tag};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLoggingStatus, ExpirationStatus, LifecycleExpiration,
    LifecycleRule, LifecycleRuleFilter, LoggingEnabled, PublicAccessBlockConfiguration, Tagging,
};
use caracal_aws::Clients;

use super::error::call;
use super::s3::{create_bucket, encrypt, version};
use super::{SeedError, SeededBucket, SeededKey, SeededSecurityGroup, SeededUser};

/// Buckets per unit beside the five misconfigured ones.
pub(super) const BUCKETS: u32 = 15;
/// Security groups per unit beside the two seeded and the VPC's default.
const SECURITY_GROUPS: u32 = 4;
/// Users per unit beside the three seeded.
const USERS: u32 = 5;
/// Instances per unit beside the seeded one.
const INSTANCES: i32 = 3;
/// Keys per unit beside the two seeded.
const KEYS: u32 = 2;

const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}"#;

/// What the filler made in one unit.
#[derive(Default)]
pub(super) struct BulkUnit {
    pub(super) buckets: Vec<SeededBucket>,
    pub(super) security_groups: Vec<SeededSecurityGroup>,
    pub(super) users: Vec<SeededUser>,
    pub(super) roles: Vec<String>,
    pub(super) instances: Vec<String>,
    pub(super) keys: Vec<SeededKey>,
}

/// Unit `i`'s filler. `vpc` and `subnet` are the unit's; `log_bucket` receives the
/// server access logs of the buckets that log.
pub(super) async fn seed(
    c: &Clients,
    i: u32,
    vpc: &str,
    subnet: &str,
    log_bucket: &str,
) -> Result<BulkUnit, SeedError> {
    let (buckets, (security_groups, instances), (users, roles), keys) = tokio::try_join!(
        buckets(c, i, log_bucket),
        ec2(c, i, vpc, subnet),
        iam(c, i),
        keys(c, i),
    )?;
    Ok(BulkUnit { buckets, security_groups, users, roles, instances, keys })
}

/// Buckets whose settings vary with their number `k`: encryption on even ones,
/// versioning every third, a public access block every fourth, tags and a lifecycle rule
/// every fifth, access logging every seventh.
async fn buckets(c: &Clients, i: u32, log_bucket: &str) -> Result<Vec<SeededBucket>, SeedError> {
    let s3 = c.s3();
    let mut out = Vec::new();
    for k in 0..BUCKETS {
        let name = format!("caracal-seed-{i}-bulk-{k:02}");
        create_bucket(&s3, &name, c.region()).await?;
        let seeded = SeededBucket {
            name: name.clone(),
            public_acl: false,
            public_policy: false,
            encrypted: k % 2 == 0,
            versioned: k % 3 == 0,
            public_access_block: k % 4 == 0,
            logging: k % 7 == 0,
            tls_only: false,
        };
        if seeded.encrypted {
            encrypt(&s3, &name).await?;
        }
        if seeded.versioned {
            version(&s3, &name).await?;
        }
        if seeded.public_access_block {
            s3.put_public_access_block()
                .bucket(&name)
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
                .map_err(call(format!("public access block of {name}")))?;
        }
        if k % 5 == 0 {
            let tag = |key: &str, value: &str| {
                aws_sdk_s3::types::Tag::builder().key(key).value(value).build()
            };
            let tagging = Tagging::builder()
                .tag_set(tag("team", &format!("team-{}", k % 3)).map_err(call("tag"))?)
                .tag_set(tag("caracal:seed", "true").map_err(call("tag"))?)
                .build()
                .map_err(call(format!("tags of {name}")))?;
            s3.put_bucket_tagging()
                .bucket(&name)
                .tagging(tagging)
                .send()
                .await
                .map_err(call(format!("tags of {name}")))?;
            let rule = LifecycleRule::builder()
                .id("expire-tmp")
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix("tmp/").build())
                .expiration(LifecycleExpiration::builder().days(30).build())
                .build()
                .map_err(call(format!("lifecycle rule of {name}")))?;
            s3.put_bucket_lifecycle_configuration()
                .bucket(&name)
                .lifecycle_configuration(
                    BucketLifecycleConfiguration::builder()
                        .rules(rule)
                        .build()
                        .map_err(call(format!("lifecycle of {name}")))?,
                )
                .send()
                .await
                .map_err(call(format!("lifecycle of {name}")))?;
        }
        if seeded.logging {
            s3.put_bucket_logging()
                .bucket(&name)
                .bucket_logging_status(
                    BucketLoggingStatus::builder()
                        .logging_enabled(
                            LoggingEnabled::builder()
                                .target_bucket(log_bucket)
                                .target_prefix(format!("{name}/"))
                                .build()
                                .map_err(call(format!("logging config of {name}")))?,
                        )
                        .build(),
                )
                .send()
                .await
                .map_err(call(format!("logging of {name}")))?;
        }
        out.push(seeded);
    }
    Ok(out)
}

/// Security groups allowing one port each from the private network, and instances in
/// the unit's subnet.
async fn ec2(
    c: &Clients,
    i: u32,
    vpc: &str,
    subnet: &str,
) -> Result<(Vec<SeededSecurityGroup>, Vec<String>), SeedError> {
    let ec2 = c.ec2();
    let mut groups = Vec::new();
    for k in 0..SECURITY_GROUPS {
        let name = format!("seed-{i}-bulk-sg-{k}");
        let id = ec2
            .create_security_group()
            .group_name(&name)
            .description("seeded: one port from the private network")
            .vpc_id(vpc)
            .send()
            .await
            .map_err(call(format!("security group {name}")))?
            .group_id
            .unwrap_or_default();
        let port = 8080 + k as i32;
        ec2.authorize_security_group_ingress()
            .group_id(&id)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(port)
                    .to_port(port)
                    .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
                    .build(),
            )
            .send()
            .await
            .map_err(call(format!("ingress of {name}")))?;
        groups.push(SeededSecurityGroup { id, name, open_ports: vec![] });
    }
    let tags = aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(Ec2ResourceType::Instance)
        .tags(Tag::builder().key("Name").value(format!("seed-{i}-bulk-instance")).build())
        .build();
    let instances = ec2
        .run_instances()
        .image_id("ami-0c1a5e5eed0c0de01")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(INSTANCES)
        .max_count(INSTANCES)
        .subnet_id(subnet)
        .security_group_ids(groups.first().map(|g| g.id.as_str()).unwrap_or_default())
        .tag_specifications(tags)
        .send()
        .await
        .map_err(call(format!("instances of unit {i}")))?
        .instances
        .unwrap_or_default()
        .into_iter()
        .filter_map(|inst| inst.instance_id)
        .collect();
    Ok((groups, instances))
}

/// Users (every other one with an access key, every third with a read-only inline
/// policy) and a role for EC2.
async fn iam(c: &Clients, i: u32) -> Result<(Vec<SeededUser>, Vec<String>), SeedError> {
    let iam = c.iam();
    let mut users = Vec::new();
    for k in 0..USERS {
        let name = format!("seed-{i}-bulk-user-{k}");
        iam.create_user().user_name(&name).send().await.map_err(call(format!("user {name}")))?;
        let mut access_keys = Vec::new();
        if k % 2 == 0 {
            let key = iam
                .create_access_key()
                .user_name(&name)
                .send()
                .await
                .map_err(call(format!("access key of {name}")))?
                .access_key
                .map(|k| k.access_key_id)
                .unwrap_or_default();
            access_keys.push(key);
        }
        if k % 3 == 0 {
            iam.put_user_policy()
                .user_name(&name)
                .policy_name("seed-read-only")
                .policy_document(READ_ONLY)
                .send()
                .await
                .map_err(call(format!("inline policy of {name}")))?;
        }
        users.push(SeededUser {
            name,
            console_password: false,
            mfa: false,
            access_keys,
            admin_inline_policy: false,
        });
    }
    let role = format!("seed-{i}-bulk-role");
    iam.create_role()
        .role_name(&role)
        .assume_role_policy_document(EC2_TRUST)
        .send()
        .await
        .map_err(call(format!("role {role}")))?;
    Ok((users, vec![role]))
}

/// Keys without rotation.
async fn keys(c: &Clients, i: u32) -> Result<Vec<SeededKey>, SeedError> {
    let kms = c.kms();
    let mut out = Vec::new();
    for k in 0..KEYS {
        let what = format!("bulk key {k} of unit {i}");
        let meta = kms
            .create_key()
            .description(format!("seed-{i}-bulk-key-{k}"))
            .send()
            .await
            .map_err(call(what.clone()))?
            .key_metadata
            .ok_or_else(|| SeedError::Call { what, reason: "no metadata".into() })?;
        out.push(SeededKey { id: meta.key_id, arn: meta.arn.unwrap_or_default(), rotation: false });
    }
    Ok(out)
}
