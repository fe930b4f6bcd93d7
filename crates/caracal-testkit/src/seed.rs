//! A deterministic, deliberately misconfigured account, built through the real SDK.
//!
//! Scale `n` makes `n` units; unit `i` holds, named `seed-{i}-...` (buckets
//! `caracal-seed-{i}-...`):
//!
//! | kind | made | misconfiguration |
//! | --- | --- | --- |
//! | S3 buckets | `public-acl`, `public-policy`, `plain`, `compliant`, `logs` | AllUsers READ grant; `Principal: *` policy; no encryption, no versioning; none; none |
//! | VPC | one, with a subnet | no flow logs |
//! | security groups | `open-admin`, `web-internal` | 22 and 3389 from 0.0.0.0/0, 22 from ::/0; none |
//! | instance | one, in the open group | IMDSv1 allowed (plus its root volume) |
//! | volumes | `encrypted`, `unencrypted` | the second is unencrypted |
//! | IAM users | `console-nomfa`, `keys-admin`, `mfa-ok` | console password without MFA; access key + admin inline policy; none |
//! | IAM roles | `ec2`, `cross-account` | none; trusts any AWS principal |
//! | IAM group + policy | `group`, `policy` | the policy allows `*:*` |
//! | KMS keys | `rotated`, `unrotated` | rotation off on the second |
//! | DynamoDB table | `table` | no point-in-time recovery |
//!
//! Once per account: a CloudTrail trail that is not logging and lacks log file validation,
//! a Config recorder that is defined but stopped, and no password policy.
//!
//! The seeder refuses to run against anything but a loopback endpoint: it exists to build
//! test accounts, never to touch a real one.

use std::time::Instant;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, IpPermission, IpRange, Ipv6Range, ResourceType as Ec2ResourceType, Tag,
    TagSpecification,
};
use aws_sdk_s3::types::{
    BucketLoggingStatus, BucketVersioningStatus, CreateBucketConfiguration, LoggingEnabled,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use caracal_aws::{Clients, Session};
use futures::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};
use tracing::info;

/// Requests in flight while seeding; moto is one Python process.
const CONCURRENCY: usize = 8;
/// The largest scale: unit numbers go into VPC CIDRs (`10.{i}.0.0/16`).
pub const MAX_SCALE: u32 = 250;

/// An error while seeding.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// The endpoint is not loopback: refusing to create resources in a real account.
    #[error("refusing to seed {0:?}: the seeder only runs against an emulator on 127.0.0.1")]
    NotAnEmulator(Option<String>),
    /// The scale is out of range.
    #[error("scale {0} is out of range 1..={MAX_SCALE}")]
    Scale(u32),
    /// An SDK call failed.
    #[error("seeding {what} failed: {reason}")]
    Call {
        /// What was being created.
        what: String,
        /// The SDK's error chain.
        reason: String,
    },
}

fn call<E: std::error::Error + 'static>(what: impl Into<String>) -> impl FnOnce(E) -> SeedError {
    let what = what.into();
    move |e| SeedError::Call { what, reason: caracal_core::error::chain(&e) }
}

/// What the seeder made. Names are deterministic; ids come from the emulator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The scale seeded.
    pub scale: u32,
    /// The account.
    pub account_id: String,
    /// The region of regional resources.
    pub region: String,
    /// S3 buckets.
    pub buckets: Vec<SeededBucket>,
    /// VPC ids.
    pub vpcs: Vec<String>,
    /// Security groups made by the seeder (not the VPCs' default groups).
    pub security_groups: Vec<SeededSecurityGroup>,
    /// Instance ids.
    pub instances: Vec<String>,
    /// Volumes made directly (not instance root volumes).
    pub volumes: Vec<SeededVolume>,
    /// IAM users.
    pub users: Vec<SeededUser>,
    /// IAM role names.
    pub roles: Vec<String>,
    /// IAM group names.
    pub groups: Vec<String>,
    /// Customer managed policy ARNs.
    pub policies: Vec<String>,
    /// KMS keys.
    pub kms_keys: Vec<SeededKey>,
    /// DynamoDB table names.
    pub tables: Vec<String>,
    /// CloudTrail trail names.
    pub trails: Vec<String>,
    /// The stopped Config recorder's name.
    pub config_recorder: String,
    /// Whether an account password policy exists (never, by design).
    pub password_policy: bool,
    /// Wall time spent seeding, in milliseconds.
    pub seconds: f64,
}

impl Manifest {
    /// Resources the seeder made directly, plus what AWS makes with them that a scanner
    /// sees (each VPC's default security group and network ACL, each instance's root
    /// volume, the account singletons).
    pub fn resource_count(&self) -> usize {
        self.buckets.len()
            + self.vpcs.len() * 3
            + self.security_groups.len()
            + self.instances.len() * 2
            + self.volumes.len()
            + self.users.len()
            + self.roles.len()
            + self.groups.len()
            + self.policies.len()
            + self.kms_keys.len()
            + self.tables.len()
            + self.trails.len()
            + 2
    }
}

/// One seeded bucket and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededBucket {
    /// Bucket name.
    pub name: String,
    /// Has an AllUsers READ grant.
    pub public_acl: bool,
    /// Has a `Principal: *` bucket policy.
    pub public_policy: bool,
    /// Has default encryption.
    pub encrypted: bool,
    /// Has versioning enabled.
    pub versioned: bool,
    /// Has a full public access block.
    pub public_access_block: bool,
    /// Writes access logs.
    pub logging: bool,
}

/// One seeded security group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededSecurityGroup {
    /// Group id.
    pub id: String,
    /// Group name.
    pub name: String,
    /// Ports open to 0.0.0.0/0.
    pub open_ports: Vec<u16>,
}

/// One seeded volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededVolume {
    /// Volume id.
    pub id: String,
    /// Encrypted at rest.
    pub encrypted: bool,
}

/// One seeded IAM user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededUser {
    /// User name.
    pub name: String,
    /// Has a console password.
    pub console_password: bool,
    /// Has a virtual MFA device enabled.
    pub mfa: bool,
    /// Access key ids.
    pub access_keys: Vec<String>,
    /// Has an inline policy allowing `*` on `*`.
    pub admin_inline_policy: bool,
}

/// One seeded KMS key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededKey {
    /// Key id.
    pub id: String,
    /// Key ARN.
    pub arn: String,
    /// Rotation enabled.
    pub rotation: bool,
}

const ADMIN_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const ANY_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;

/// Seeds `scale` units into the account behind `session`, in its home region.
pub async fn seed(session: &Session, scale: u32) -> Result<Manifest, SeedError> {
    let endpoint = session.aws().endpoint_url().map(str::to_owned);
    let loopback = endpoint
        .as_deref()
        .is_some_and(|e| e.starts_with("http://127.0.0.1:") || e.starts_with("http://localhost:"));
    if !loopback {
        return Err(SeedError::NotAnEmulator(endpoint));
    }
    if scale == 0 || scale > MAX_SCALE {
        return Err(SeedError::Scale(scale));
    }
    let started = Instant::now();
    let clients = session.home();
    let mut manifest = Manifest {
        scale,
        account_id: session.account_id().to_owned(),
        region: clients.region().to_owned(),
        config_recorder: "default".into(),
        ..Manifest::default()
    };

    let units: Vec<Unit> = stream::iter(0..scale)
        .map(|i| seed_unit(&clients, i))
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    for unit in units {
        manifest.buckets.extend(unit.buckets);
        manifest.vpcs.push(unit.vpc);
        manifest.security_groups.extend(unit.security_groups);
        manifest.instances.push(unit.instance);
        manifest.volumes.extend(unit.volumes);
        manifest.users.extend(unit.users);
        manifest.roles.extend(unit.roles);
        manifest.groups.push(unit.group);
        manifest.policies.push(unit.policy);
        manifest.kms_keys.extend(unit.keys);
        manifest.tables.push(unit.table);
    }
    manifest.trails.push(seed_account(&clients, &manifest.config_recorder).await?);
    manifest.seconds = started.elapsed().as_secs_f64();
    info!(scale, resources = manifest.resource_count(), "Seeded account.");
    Ok(manifest)
}

struct Unit {
    buckets: Vec<SeededBucket>,
    vpc: String,
    security_groups: Vec<SeededSecurityGroup>,
    instance: String,
    volumes: Vec<SeededVolume>,
    users: Vec<SeededUser>,
    roles: Vec<String>,
    group: String,
    policy: String,
    keys: Vec<SeededKey>,
    table: String,
}

async fn seed_unit(c: &Clients, i: u32) -> Result<Unit, SeedError> {
    let (buckets, ec2, iam, keys, table) = tokio::try_join!(
        seed_buckets(c, i),
        seed_ec2(c, i),
        seed_iam(c, i),
        seed_kms(c, i),
        seed_table(c, i),
    )?;
    let (vpc, security_groups, instance, volumes) = ec2;
    let (users, roles, group, policy) = iam;
    Ok(Unit {
        buckets,
        vpc,
        security_groups,
        instance,
        volumes,
        users,
        roles,
        group,
        policy,
        keys,
        table,
    })
}

async fn create_bucket(s3: &aws_sdk_s3::Client, name: &str, region: &str) -> Result<(), SeedError> {
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

async fn encrypt(s3: &aws_sdk_s3::Client, name: &str) -> Result<(), SeedError> {
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

async fn version(s3: &aws_sdk_s3::Client, name: &str) -> Result<(), SeedError> {
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

async fn seed_buckets(c: &Clients, i: u32) -> Result<Vec<SeededBucket>, SeedError> {
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

    Ok(vec![
        SeededBucket { public_acl: true, ..bucket("public-acl") },
        SeededBucket { public_policy: true, encrypted: true, ..bucket("public-policy") },
        bucket("plain"),
        SeededBucket {
            encrypted: true,
            versioned: true,
            public_access_block: true,
            logging: true,
            ..bucket("compliant")
        },
        SeededBucket { encrypted: true, versioned: true, ..bucket("logs") },
    ])
}

fn name_tag(resource: Ec2ResourceType, name: String) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource)
        .tags(Tag::builder().key("Name").value(name).build())
        .tags(Tag::builder().key("caracal:seed").value("true").build())
        .build()
}

type Ec2Unit = (String, Vec<SeededSecurityGroup>, String, Vec<SeededVolume>);

async fn seed_ec2(c: &Clients, i: u32) -> Result<Ec2Unit, SeedError> {
    let ec2 = c.ec2();
    let az = format!("{}a", c.region());
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("10.{i}.0.0/16"))
        .tag_specifications(name_tag(Ec2ResourceType::Vpc, format!("seed-{i}-vpc")))
        .send()
        .await
        .map_err(call(format!("VPC of unit {i}")))?
        .vpc
        .and_then(|v| v.vpc_id)
        .ok_or_else(|| SeedError::Call {
            what: format!("VPC of unit {i}"),
            reason: "no id".into(),
        })?;
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block(format!("10.{i}.1.0/24"))
        .availability_zone(&az)
        .send()
        .await
        .map_err(call(format!("subnet of unit {i}")))?
        .subnet
        .and_then(|s| s.subnet_id)
        .ok_or_else(|| SeedError::Call {
            what: format!("subnet of unit {i}"),
            reason: "no id".into(),
        })?;

    let open_name = format!("seed-{i}-open-admin");
    let open = ec2
        .create_security_group()
        .group_name(&open_name)
        .description("seeded: SSH and RDP open to the world")
        .vpc_id(&vpc)
        .send()
        .await
        .map_err(call(format!("security group {open_name}")))?
        .group_id
        .unwrap_or_default();
    let world = |port: i32| {
        IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
    };
    ec2.authorize_security_group_ingress()
        .group_id(&open)
        .ip_permissions(
            world(22).ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build()).build(),
        )
        .ip_permissions(world(3389).build())
        .send()
        .await
        .map_err(call(format!("ingress of {open_name}")))?;

    let web_name = format!("seed-{i}-web-internal");
    let web = ec2
        .create_security_group()
        .group_name(&web_name)
        .description("seeded: HTTPS from the private network only")
        .vpc_id(&vpc)
        .send()
        .await
        .map_err(call(format!("security group {web_name}")))?
        .group_id
        .unwrap_or_default();
    ec2.authorize_security_group_ingress()
        .group_id(&web)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(443)
                .to_port(443)
                .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
                .build(),
        )
        .send()
        .await
        .map_err(call(format!("ingress of {web_name}")))?;

    let instance = ec2
        .run_instances()
        .image_id("ami-0c1a5e5eed0c0de01")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .subnet_id(&subnet)
        .security_group_ids(&open)
        .tag_specifications(name_tag(Ec2ResourceType::Instance, format!("seed-{i}-instance")))
        .send()
        .await
        .map_err(call(format!("instance of unit {i}")))?
        .instances
        .unwrap_or_default()
        .into_iter()
        .next()
        .and_then(|inst| inst.instance_id)
        .ok_or_else(|| SeedError::Call {
            what: format!("instance of unit {i}"),
            reason: "no id".into(),
        })?;

    let mut volumes = Vec::new();
    for encrypted in [true, false] {
        let kind = if encrypted { "encrypted" } else { "unencrypted" };
        let id = ec2
            .create_volume()
            .availability_zone(&az)
            .size(8)
            .encrypted(encrypted)
            .tag_specifications(name_tag(Ec2ResourceType::Volume, format!("seed-{i}-{kind}")))
            .send()
            .await
            .map_err(call(format!("{kind} volume of unit {i}")))?
            .volume_id
            .unwrap_or_default();
        volumes.push(SeededVolume { id, encrypted });
    }
    // Keep the VPC's DNS defaults explicit so snapshots are stable across moto versions.
    ec2.modify_vpc_attribute()
        .vpc_id(&vpc)
        .enable_dns_support(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .map_err(call(format!("DNS support of {vpc}")))?;

    let groups = vec![
        SeededSecurityGroup { id: open, name: open_name, open_ports: vec![22, 3389] },
        SeededSecurityGroup { id: web, name: web_name, open_ports: vec![] },
    ];
    Ok((vpc, groups, instance, volumes))
}

type IamUnit = (Vec<SeededUser>, Vec<String>, String, String);

async fn seed_iam(c: &Clients, i: u32) -> Result<IamUnit, SeedError> {
    let iam = c.iam();
    let mut users = Vec::new();

    let nomfa = format!("seed-{i}-console-nomfa");
    iam.create_user().user_name(&nomfa).send().await.map_err(call(format!("user {nomfa}")))?;
    iam.create_login_profile()
        .user_name(&nomfa)
        .password("Seeded-Passw0rd!")
        .send()
        .await
        .map_err(call(format!("login profile of {nomfa}")))?;
    users.push(SeededUser {
        name: nomfa,
        console_password: true,
        mfa: false,
        access_keys: vec![],
        admin_inline_policy: false,
    });

    let admin = format!("seed-{i}-keys-admin");
    iam.create_user().user_name(&admin).send().await.map_err(call(format!("user {admin}")))?;
    let key = iam
        .create_access_key()
        .user_name(&admin)
        .send()
        .await
        .map_err(call(format!("access key of {admin}")))?
        .access_key
        .map(|k| k.access_key_id)
        .unwrap_or_default();
    iam.put_user_policy()
        .user_name(&admin)
        .policy_name("seed-admin")
        .policy_document(ADMIN_POLICY)
        .send()
        .await
        .map_err(call(format!("inline policy of {admin}")))?;
    users.push(SeededUser {
        name: admin.clone(),
        console_password: false,
        mfa: false,
        access_keys: vec![key],
        admin_inline_policy: true,
    });

    let mfa = format!("seed-{i}-mfa-ok");
    iam.create_user().user_name(&mfa).send().await.map_err(call(format!("user {mfa}")))?;
    iam.create_login_profile()
        .user_name(&mfa)
        .password("Seeded-Passw0rd!")
        .send()
        .await
        .map_err(call(format!("login profile of {mfa}")))?;
    let serial = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name(&mfa)
        .send()
        .await
        .map_err(call(format!("MFA device of {mfa}")))?
        .virtual_mfa_device
        .map(|d| d.serial_number)
        .unwrap_or_default();
    iam.enable_mfa_device()
        .user_name(&mfa)
        .serial_number(serial)
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .map_err(call(format!("MFA of {mfa}")))?;
    users.push(SeededUser {
        name: mfa,
        console_password: true,
        mfa: true,
        access_keys: vec![],
        admin_inline_policy: false,
    });

    let mut roles = Vec::new();
    for (kind, trust) in [("ec2", EC2_TRUST), ("cross-account", ANY_TRUST)] {
        let role = format!("seed-{i}-{kind}");
        iam.create_role()
            .role_name(&role)
            .assume_role_policy_document(trust)
            .send()
            .await
            .map_err(call(format!("role {role}")))?;
        roles.push(role);
    }

    let group = format!("seed-{i}-group");
    iam.create_group().group_name(&group).send().await.map_err(call(format!("group {group}")))?;
    iam.add_user_to_group()
        .group_name(&group)
        .user_name(&admin)
        .send()
        .await
        .map_err(call(format!("membership of {admin} in {group}")))?;
    let policy_name = format!("seed-{i}-policy");
    let policy = iam
        .create_policy()
        .policy_name(&policy_name)
        .policy_document(ADMIN_POLICY)
        .send()
        .await
        .map_err(call(format!("policy {policy_name}")))?
        .policy
        .and_then(|p| p.arn)
        .unwrap_or_default();
    iam.attach_group_policy()
        .group_name(&group)
        .policy_arn(&policy)
        .send()
        .await
        .map_err(call(format!("attachment of {policy_name}")))?;
    Ok((users, roles, group, policy))
}

async fn seed_kms(c: &Clients, i: u32) -> Result<Vec<SeededKey>, SeedError> {
    let kms = c.kms();
    let mut keys = Vec::new();
    for rotation in [true, false] {
        let kind = if rotation { "rotated" } else { "unrotated" };
        let meta = kms
            .create_key()
            .description(format!("seed-{i}-{kind}"))
            .send()
            .await
            .map_err(call(format!("{kind} key of unit {i}")))?
            .key_metadata
            .ok_or_else(|| SeedError::Call {
                what: format!("{kind} key"),
                reason: "no metadata".into(),
            })?;
        if rotation {
            kms.enable_key_rotation()
                .key_id(&meta.key_id)
                .send()
                .await
                .map_err(call(format!("rotation of {}", meta.key_id)))?;
        }
        keys.push(SeededKey { id: meta.key_id, arn: meta.arn.unwrap_or_default(), rotation });
    }
    Ok(keys)
}

async fn seed_table(c: &Clients, i: u32) -> Result<String, SeedError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let table = format!("seed-{i}-table");
    c.dynamodb()
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(call(format!("table {table}")))?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .map_err(call(format!("table {table}")))?,
        )
        .send()
        .await
        .map_err(call(format!("table {table}")))?;
    Ok(table)
}

async fn seed_account(c: &Clients, recorder: &str) -> Result<String, SeedError> {
    let s3 = c.s3();
    let trail_bucket = "caracal-seed-trail-logs";
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
