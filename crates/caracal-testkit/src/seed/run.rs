//! [`seed`]: validates the endpoint and scale, seeds the units side by side, then the
//! account singletons, and gathers the [`Manifest`].

use std::time::Instant;

use caracal_aws::{Clients, Session};
use futures::{StreamExt, TryStreamExt, stream};
use tracing::info;

use super::{
    Manifest, SeedError, SeededBucket, SeededCluster, SeededDatabase, SeededEcsCluster,
    SeededFunction, SeededKey, SeededLogGroup, SeededQueue, SeededResource, SeededSecret,
    SeededSecurityGroup, SeededSnapshot, SeededTopic, SeededUser, SeededVolume, account, bulk,
    dynamodb, ec2, ecs, eks, iam, kms, lambda, logs, posture, posture_account, rds, s3,
    secretsmanager, sns, sqs,
};

/// Requests in flight while seeding; moto is one Python process.
const CONCURRENCY: usize = 8;
/// The largest scale: unit numbers go into VPC CIDRs (`10.{i}.0.0/16`).
pub const MAX_SCALE: u32 = 250;

/// What each unit holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mix {
    /// The deliberately misconfigured resources only (the table in the module docs).
    #[default]
    Misconfigured,
    /// The misconfigured resources plus a realistic filler (more buckets, groups, users,
    /// instances and keys), for benchmarks of realistic size.
    Realistic,
}

/// Seeds `scale` misconfigured units into the account behind `session`, in its home
/// region.
pub async fn seed(session: &Session, scale: u32) -> Result<Manifest, SeedError> {
    seed_mix(session, scale, Mix::Misconfigured).await
}

/// Seeds `scale` units of `mix` into the account behind `session`, in its home region.
pub async fn seed_mix(session: &Session, scale: u32, mix: Mix) -> Result<Manifest, SeedError> {
    // Boxed: the seeding future holds dozens of SDK calls; inline, its state lands on the
    // caller's stack (a test thread's 2 MiB in a debug build) and overflowed it.
    Box::pin(seed_all(session, scale, mix)).await
}

async fn seed_all(session: &Session, scale: u32, mix: Mix) -> Result<Manifest, SeedError> {
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
        .map(|i| Box::pin(seed_unit(&clients, session.account_id(), i, mix)))
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    for unit in units {
        manifest.buckets.extend(unit.buckets);
        manifest.vpcs.push(unit.vpc);
        manifest.security_groups.extend(unit.security_groups);
        manifest.instances.extend(unit.instances);
        manifest.volumes.extend(unit.volumes);
        manifest.snapshots.extend(unit.snapshots);
        manifest.users.extend(unit.users);
        manifest.roles.extend(unit.roles);
        manifest.groups.push(unit.group);
        manifest.policies.push(unit.policy);
        manifest.kms_keys.extend(unit.keys);
        manifest.tables.push(unit.table);
        manifest.roles.push(unit.lambda_role);
        manifest.functions.extend(unit.functions);
        manifest.databases.extend(unit.databases);
        manifest.log_groups.extend(unit.log_groups);
        manifest.secrets.push(unit.secret);
        manifest.clusters.extend(unit.clusters);
        manifest.ecs_clusters.extend(unit.ecs_clusters);
        manifest.topics.extend(unit.topics);
        manifest.queues.extend(unit.queues);
        manifest.resources.extend(unit.resources);
    }
    manifest.trails.push(Box::pin(account::seed(&clients, &manifest.config_recorder)).await?);
    manifest.resources.extend(Box::pin(posture_account::seed(&clients)).await?);
    manifest.seconds = started.elapsed().as_secs_f64();
    info!(scale, resources = manifest.resource_count(), "Seeded account.");
    Ok(manifest)
}

/// What one unit made.
struct Unit {
    buckets: Vec<SeededBucket>,
    vpc: String,
    security_groups: Vec<SeededSecurityGroup>,
    instances: Vec<String>,
    volumes: Vec<SeededVolume>,
    snapshots: Vec<SeededSnapshot>,
    users: Vec<SeededUser>,
    roles: Vec<String>,
    group: String,
    policy: String,
    keys: Vec<SeededKey>,
    table: String,
    lambda_role: String,
    functions: Vec<SeededFunction>,
    databases: Vec<SeededDatabase>,
    log_groups: Vec<SeededLogGroup>,
    secret: SeededSecret,
    clusters: Vec<SeededCluster>,
    ecs_clusters: Vec<SeededEcsCluster>,
    topics: Vec<SeededTopic>,
    queues: Vec<SeededQueue>,
    resources: Vec<SeededResource>,
}

async fn seed_unit(c: &Clients, account: &str, i: u32, mix: Mix) -> Result<Unit, SeedError> {
    let (
        buckets,
        ec2,
        iam,
        keys,
        table,
        (lambda_role, functions),
        databases,
        log_groups,
        secret,
        ecs_clusters,
        topics,
        queues,
        mut resources,
    ) = tokio::try_join!(
        s3::seed(c, i),
        ec2::seed(c, i),
        iam::seed(c, i),
        kms::seed(c, i),
        dynamodb::seed(c, i),
        lambda::seed(c, i),
        rds::seed(c, i),
        logs::seed(c, i),
        secretsmanager::seed(c, i),
        ecs::seed(c, i),
        sns::seed(c, account, i),
        sqs::seed(c, account, i),
        posture::seed(c, i),
    )?;
    // The RDS snapshots are of the unit's private database, so they come after it.
    resources.extend(posture::db_snapshots(c, i).await?);
    // EKS needs the unit's subnet and a role, so it runs once those exist.
    let role = format!("arn:aws:iam::{account}:role/seed-{i}-ec2");
    let key = keys.iter().find(|k| k.rotation).map(|k| k.arn.as_str()).unwrap_or_default();
    let clusters = eks::seed(c, i, &role, std::slice::from_ref(&ec2.subnet), key).await?;
    let filler = match mix {
        Mix::Misconfigured => bulk::BulkUnit::default(),
        Mix::Realistic => {
            let log_bucket = format!("caracal-seed-{i}-logs");
            bulk::seed(c, i, &ec2.vpc, &ec2.subnet, &log_bucket).await?
        }
    };
    let (mut buckets, mut security_groups, mut users, mut roles, mut keys) =
        (buckets, ec2.security_groups, iam.users, iam.roles, keys);
    buckets.extend(filler.buckets);
    security_groups.extend(filler.security_groups);
    users.extend(filler.users);
    roles.extend(filler.roles);
    keys.extend(filler.keys);
    let mut instances = vec![ec2.instance];
    instances.extend(filler.instances);
    Ok(Unit {
        buckets,
        vpc: ec2.vpc,
        security_groups,
        instances,
        volumes: ec2.volumes,
        snapshots: ec2.snapshots,
        users,
        roles,
        group: iam.group,
        policy: iam.policy,
        keys,
        table,
        lambda_role,
        functions,
        databases,
        log_groups,
        secret,
        clusters,
        ecs_clusters,
        topics,
        queues,
        resources,
    })
}
