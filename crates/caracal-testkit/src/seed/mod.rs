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
//! | EBS snapshots | `private`, `public` (of a `snapshot-source` volume) | the second is shared with `all` |
//! | IAM users | `console-nomfa`, `keys-admin`, `mfa-ok` | console password without MFA; access key + admin inline policy; none |
//! | IAM roles | `ec2`, `cross-account` | none; trusts any AWS principal |
//! | IAM group + policy | `group`, `policy` | the policy allows `*:*` |
//! | KMS keys | `rotated`, `unrotated` | rotation off on the second |
//! | DynamoDB table | `table` | no point-in-time recovery |
//! | Lambda functions | `function-public`, `function-private` (and role `lambda`) | anyone may invoke, end-of-life runtime `python3.7`; none |
//! | CloudWatch log groups | `/caracal/seed-{i}/short`, `/caracal/seed-{i}/kept` | events expire after 7 days; none (731 days) |
//! | RDS instances | `db-public`, `db-private` | public, unencrypted, no backups, no deletion protection, single-AZ; none |
//! | Secrets Manager secret | `secret` | never rotates |
//! | ECS clusters | `ecs-plain`, `ecs-insights` | no Container Insights; none |
//! | EKS clusters | `eks-public`, `eks-private` (in the unit's subnet, role `ec2`) | public API endpoint, no control-plane logs, unencrypted secrets; none |
//! | SNS topics | `topic-public`, `topic-private` | anyone may publish, unencrypted; none |
//! | SQS queues | `queue-public`, `queue-private` | anyone may send, unencrypted; none |
//! | ACM certificate | `seed-{i}.caracal.test` | none |
//! | CloudFormation stacks | `stack-protected`, `stack-plain` | none; no termination protection |
//! | Redshift clusters | `redshift-public`, `redshift-private` | public, unencrypted, no audit logs; none |
//! | RDS snapshots (of `db-private`) | `dbsnap-public`, `dbsnap-private` | restorable by anyone; none |
//!
//! Once per account: a CloudTrail trail that is not logging and lacks log file validation,
//! a Config recorder that is defined but stopped, no password policy and no account-level
//! S3 public access block.
//! Also once per account (`posture_account.rs`): two load balancers, a GuardDuty
//! detector, a global and a regional web ACL, an Access Analyzer analyzer and one CIS
//! monitoring filter with its alarm; Security Hub stays disabled.
//!
//! With [`Mix::Realistic`] each unit also holds what real accounts hold many of (#17):
//! 15 more buckets in mixed configurations (encryption, versioning, public access block,
//! tags and lifecycle, access logging), 4 more security groups, 5 more users (some with
//! keys and inline policies), one more role, 3 more instances and 2 more keys, about 80
//! resources per unit: scale 50 is an account of about 3,900 resources with 1,000
//! buckets, 350 security groups, 400 users, 200 roles, 200 instances, 350 volumes and
//! 200 keys, which the scan benchmark uses. [`seed`] seeds the misconfigured units only
//! ([`Mix::Misconfigured`]), which every test expects.
//!
//! The seeder refuses to run against anything but a loopback endpoint: it exists to build
//! test accounts, never to touch a real one.
//!
//! One module per service (`s3.rs`, `ec2.rs`, `iam.rs`, `kms.rs`, `dynamodb.rs`, `sns.rs`,
//! `sqs.rs`, ...), the
//! account singletons (`account.rs`), the [`Manifest`] (`manifest.rs`) and the run that
//! ties them together (`run.rs`).

mod account;
mod bulk;
mod dynamodb;
mod ec2;
mod ecs;
mod eks;
mod error;
mod iam;
mod kms;
mod lambda;
mod logs;
mod manifest;
mod posture;
mod posture_account;
mod rds;
mod run;
mod s3;
mod secretsmanager;
mod sns;
mod sqs;

pub use self::account::start_config_recorder;
pub use self::error::SeedError;
pub use self::manifest::{
    Manifest, SeededBucket, SeededCluster, SeededDatabase, SeededEcsCluster, SeededFunction,
    SeededKey, SeededLogGroup, SeededQueue, SeededResource, SeededSecret, SeededSecurityGroup,
    SeededSnapshot, SeededTopic, SeededUser, SeededVolume,
};
pub use self::run::{MAX_SCALE, Mix, seed, seed_mix};

/// A resource policy that lets anyone (`Principal: *`, no condition) call `action` on
/// `arn`: the public-access misconfiguration the seeders plant.
fn anyone_may(action: &str, arn: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": action, "Resource": arn}],
    })
}
