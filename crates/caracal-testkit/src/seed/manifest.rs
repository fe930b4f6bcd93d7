//! [`Manifest`]: what the seeder made, with names to compare scans against.

use serde::{Deserialize, Serialize};

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
    /// EBS snapshots, of volumes made for them.
    pub snapshots: Vec<SeededSnapshot>,
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
    /// CloudWatch log groups.
    pub log_groups: Vec<SeededLogGroup>,
    /// RDS database instances.
    pub databases: Vec<SeededDatabase>,
    /// Lambda functions.
    pub functions: Vec<SeededFunction>,
    /// Secrets Manager secrets.
    pub secrets: Vec<SeededSecret>,
    /// ECS clusters.
    pub ecs_clusters: Vec<SeededEcsCluster>,
    /// EKS clusters.
    pub clusters: Vec<SeededCluster>,
    /// SNS topics.
    pub topics: Vec<SeededTopic>,
    /// SQS queues.
    pub queues: Vec<SeededQueue>,
    /// CloudTrail trail names.
    pub trails: Vec<String>,
    /// The stopped Config recorder's name.
    pub config_recorder: String,
    /// Whether an account password policy exists (never, by design).
    pub password_policy: bool,
    /// Resources of the types added with #14 (certificates, stacks, load balancers,
    /// Redshift clusters, RDS snapshots, web ACLs, the GuardDuty detector, the Access
    /// Analyzer analyzer, the monitoring filter and alarm), each with its type.
    #[serde(default)]
    pub resources: Vec<SeededResource>,
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
            + self.snapshots.len()
            + self.snapshot_volumes().len()
            + self.users.len()
            + self.roles.len()
            + self.groups.len()
            + self.policies.len()
            + self.kms_keys.len()
            + self.tables.len()
            + self.functions.len()
            + self.databases.len()
            + self.log_groups.len()
            + self.secrets.len()
            + self.clusters.len()
            + self.ecs_clusters.len()
            + self.topics.len()
            + self.queues.len()
            + self.trails.len()
            + self.resources.len()
            + 2
    }
}

impl Manifest {
    /// The volumes made only to hold the seeded snapshots.
    pub fn snapshot_volumes(&self) -> std::collections::BTreeSet<&str> {
        self.snapshots.iter().map(|s| s.volume_id.as_str()).collect()
    }
}

/// One seeded EBS snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededSnapshot {
    /// Snapshot id.
    pub id: String,
    /// The volume it was taken of.
    pub volume_id: String,
    /// Shared with `all` (create-volume permission).
    pub public: bool,
}

/// One seeded CloudWatch log group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededLogGroup {
    /// Log group name.
    pub name: String,
    /// Days events are kept.
    pub retention_in_days: i32,
}

/// One seeded RDS instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededDatabase {
    /// DB instance identifier.
    pub name: String,
    /// DB instance ARN.
    pub arn: String,
    /// Publicly accessible, unencrypted, without backups or deletion protection; when
    /// false, none of these.
    pub misconfigured: bool,
}

/// One seeded Lambda function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededFunction {
    /// Function name.
    pub name: String,
    /// Function ARN.
    pub arn: String,
    /// Runtime identifier, such as `python3.12`.
    pub runtime: String,
    /// Its resource policy lets any principal (`*`) invoke it.
    pub public_policy: bool,
}

/// One seeded Secrets Manager secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededSecret {
    /// Secret name.
    pub name: String,
    /// Secret ARN.
    pub arn: String,
    /// Rotation enabled.
    pub rotation: bool,
}

/// One seeded ECS cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededEcsCluster {
    /// Cluster name.
    pub name: String,
    /// Cluster ARN.
    pub arn: String,
    /// Container Insights enabled.
    pub container_insights: bool,
}

/// One seeded EKS cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededCluster {
    /// Cluster name.
    pub name: String,
    /// Cluster ARN.
    pub arn: String,
    /// Public API endpoint and no control-plane logs; when false, neither.
    pub misconfigured: bool,
}

/// One seeded SNS topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededTopic {
    /// Topic name.
    pub name: String,
    /// Topic ARN.
    pub arn: String,
    /// Its access policy lets anyone (`Principal: *`) publish.
    pub public_policy: bool,
    /// Encrypted with a KMS key.
    pub encrypted: bool,
}

/// One seeded SQS queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededQueue {
    /// Queue name.
    pub name: String,
    /// Queue ARN.
    pub arn: String,
    /// Queue URL.
    pub url: String,
    /// Its access policy lets anyone (`Principal: *`) send.
    pub public_policy: bool,
    /// Encrypted at rest (SQS-managed keys).
    pub encrypted: bool,
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
    /// Has a policy that denies every request without TLS (and allows nothing).
    #[serde(default)]
    pub tls_only: bool,
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

/// One seeded resource of a type added with #14.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeededResource {
    /// Its type, such as `AWS.Redshift.Cluster`.
    pub resource_type: String,
    /// Its name.
    pub name: String,
    /// Its ARN (its `ResourceId`), or the account/region singleton id.
    pub id: String,
    /// Whether it was made misconfigured on purpose.
    pub misconfigured: bool,
}

impl SeededResource {
    pub(super) fn new(resource_type: &str, name: &str, id: &str, misconfigured: bool) -> Self {
        Self {
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
            id: id.to_owned(),
            misconfigured,
        }
    }
}
