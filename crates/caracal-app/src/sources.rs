//! Log sources as users onboard them (`caracal sources list|check`): reading each source's
//! bucket through its own role ([`SourceStores`]), recording what each source delivered
//! ([`record_activity`]) and checking that its role, bucket and key are usable
//! ([`check`]).
//!
//! Activity lives in the store's key-value state (both backends), per source: the last
//! object (`caracal:source:<id>:last`) and event / error counters in 5-minute buckets
//! (kept 2 hours) and hour buckets (kept 26 hours). "Last hour" sums the twelve 5-minute
//! buckets up to now, "last day" the 24 hour buckets.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use caracal_aws::{Purpose, Session};
use caracal_core::config::AccountConfig;
use caracal_core::error::chain;
use caracal_logs::poll::{Body, ObjectStore};
use caracal_logs::s3::S3Store;
use caracal_logs::sources::role_account;
use caracal_logs::{Report, SourceConfig, SourcesFile};
use caracal_store::KvStore;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::context::Context;
use crate::error::{Error, Result};

const FIVE_MINUTES: i64 = 300;
const HOUR: i64 = 3600;

/// Reads each source's objects with its credentials: through the source's role when it
/// has one, else with the home credentials. The longest configured prefix matching a key
/// picks the source (as routing does); keys no source with a role covers use the home
/// credentials. A role that could not be assumed fails only its own source's reads.
pub struct SourceStores {
    home: S3Store,
    routes: Vec<RoleRoute>,
}

struct RoleRoute {
    bucket: String,
    prefix: String,
    store: std::result::Result<Arc<S3Store>, String>,
}

impl std::fmt::Debug for SourceStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let routes: Vec<String> =
            self.routes.iter().map(|r| format!("s3://{}/{}", r.bucket, r.prefix)).collect();
        f.debug_struct("SourceStores").field("through_roles", &routes).finish()
    }
}

impl SourceStores {
    /// Assumes every source's role once.
    pub async fn open(ctx: &Context, sources: Option<&SourcesFile>) -> Result<Self> {
        let home = S3Store::new(ctx.home_clients().await?.s3());
        let mut routes = Vec::new();
        for source in sources.map(|s| s.sources.as_slice()).unwrap_or_default() {
            if source.role_arn.is_none() {
                continue;
            }
            let store = match assume(ctx, source).await {
                Ok(session) => Ok(Arc::new(S3Store::new(session.home().s3()))),
                Err(err) => {
                    warn!(source = %source.id, error = %format!("{err:#}"), "Source role not assumed.");
                    Err(format!("{err:#}"))
                }
            };
            for rule in &source.prefixes {
                routes.push(RoleRoute {
                    bucket: source.bucket.clone(),
                    prefix: rule.prefix.clone(),
                    store: store.clone(),
                });
            }
        }
        Ok(SourceStores { home, routes })
    }

    fn store(&self, bucket: &str, key: &str) -> Result<&S3Store, caracal_logs::Error> {
        let route = self
            .routes
            .iter()
            .filter(|r| r.bucket == bucket && key.starts_with(&r.prefix))
            .max_by_key(|r| r.prefix.len());
        match route {
            None => Ok(&self.home),
            Some(RoleRoute { store: Ok(store), .. }) => Ok(store),
            Some(RoleRoute { store: Err(reason), .. }) => Err(caracal_logs::Error::Source {
                context: format!("reading s3://{bucket}/{key}"),
                reason: reason.clone(),
            }),
        }
    }
}

#[async_trait]
impl ObjectStore for SourceStores {
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, caracal_logs::Error> {
        self.store(bucket, prefix)?.list(bucket, prefix).await
    }

    async fn open(&self, bucket: &str, key: &str) -> Result<Body, caracal_logs::Error> {
        self.store(bucket, key)?.open(bucket, key).await
    }
}

/// The session of a source's role (the home session when it has none).
async fn assume(ctx: &Context, source: &SourceConfig) -> Result<Session> {
    let aws = ctx.aws().await?;
    let Some(arn) = &source.role_arn else {
        return aws
            .session(None, Purpose::Scan)
            .await
            .map_err(Error::aws("opening the home session"));
    };
    let (account, role) = role_account(arn)
        .ok_or_else(|| Error::Invalid(format!("source {}: bad role_arn {arn}", source.id)))?;
    let account = AccountConfig {
        id: account.to_owned(),
        role_name: Some(role.to_owned()),
        remediation_role_name: None,
        external_id: source.external_id.clone(),
    };
    aws.session(Some(&account), Purpose::Scan)
        .await
        .map_err(Error::aws(format!("source {}: assuming {arn}", source.id)))
}

fn key(source: &str, what: &str) -> String {
    format!("caracal:source:{source}:{what}")
}

/// The last object a source delivered, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastObject {
    /// `s3://bucket/key` (or a file path).
    pub object: String,
    /// When it was processed.
    pub at: DateTime<Utc>,
}

/// Records what `report` says each source delivered, at `now`. Best effort for callers:
/// processing has already succeeded when this runs.
pub async fn record_activity(kv: &dyn KvStore, report: &Report, now: DateTime<Utc>) -> Result<()> {
    let store_err = |what: &str| Error::store(format!("recording source activity ({what})"));
    for (source, stats) in &report.by_source {
        let t = now.timestamp();
        for (what, n) in [("events", stats.events), ("errors", stats.errors)] {
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            let five = key(source, &format!("{what}:5m:{}", t.div_euclid(FIVE_MINUTES)));
            kv.incr(&five, n, Some(Duration::from_secs(2 * 3600)))
                .await
                .map_err(store_err(what))?;
            let hour = key(source, &format!("{what}:1h:{}", t.div_euclid(HOUR)));
            kv.incr(&hour, n, Some(Duration::from_secs(26 * 3600)))
                .await
                .map_err(store_err(what))?;
        }
        if let Some(object) = &stats.last_object {
            let last = LastObject { object: object.clone(), at: now };
            let text = serde_json::to_string(&last).map_err(|e| Error::Invalid(e.to_string()))?;
            kv.put(&key(source, "last"), &text, None).await.map_err(store_err("last object"))?;
        }
    }
    Ok(())
}

/// [`record_activity`] through the context's store; a failure is logged, not returned
/// (the events are already in the lake).
pub async fn record(ctx: &Context, report: &Report) {
    if report.by_source.is_empty() {
        return;
    }
    let result = match ctx.store().await {
        Ok(store) => record_activity(store.kv(), report, Utc::now()).await,
        Err(err) => Err(err),
    };
    if let Err(err) = result {
        warn!(error = %format!("{err:#}"), "Source activity not recorded.");
    }
}

/// What a source delivered recently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// The last object read from it.
    pub last_object: Option<LastObject>,
    /// Events in the last hour.
    pub events_hour: i64,
    /// Record errors in the last hour.
    pub errors_hour: i64,
    /// Events in the last 24 hours.
    pub events_day: i64,
    /// Record errors in the last 24 hours.
    pub errors_day: i64,
}

/// A source's recorded activity as of `now`.
pub async fn activity(kv: &dyn KvStore, source: &str, now: DateTime<Utc>) -> Result<Activity> {
    let store_err = || Error::store(format!("reading source {source} activity"));
    let t = now.timestamp();
    let mut out = Activity::default();
    for (what, hour, day) in [("events", 0, 1), ("errors", 2, 3)] {
        let mut sums = [0i64; 4];
        let now5 = t.div_euclid(FIVE_MINUTES);
        for b in (now5 - 11)..=now5 {
            sums[hour] +=
                kv.counter(&key(source, &format!("{what}:5m:{b}"))).await.map_err(store_err())?;
        }
        let now1 = t.div_euclid(HOUR);
        for b in (now1 - 23)..=now1 {
            sums[day] +=
                kv.counter(&key(source, &format!("{what}:1h:{b}"))).await.map_err(store_err())?;
        }
        if what == "events" {
            (out.events_hour, out.events_day) = (sums[hour], sums[day]);
        } else {
            (out.errors_hour, out.errors_day) = (sums[hour], sums[day]);
        }
    }
    if let Some(text) = kv.get(&key(source, "last")).await.map_err(store_err())? {
        out.last_object = serde_json::from_str(&text).ok();
    }
    Ok(out)
}

/// Whether a part of a source works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum Health {
    /// Works.
    Ok,
    /// Not configured, nothing to check.
    NotSet,
    /// Does not work; why, in words a user can act on.
    Failed(String),
}

impl Health {
    /// True unless failed.
    pub fn is_ok(&self) -> bool {
        !matches!(self, Health::Failed(_))
    }
}

/// One source's status: its settings, recorded activity and (for `check`) its health.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    /// The source id (`p_source_id`).
    pub id: String,
    /// The name shown.
    pub name: String,
    /// The account it lives in, if set.
    pub account: Option<String>,
    /// Its bucket.
    pub bucket: String,
    /// `prefix → log types`.
    pub prefixes: Vec<(String, Vec<String>)>,
    /// The role read through, if any.
    pub role_arn: Option<String>,
    /// The KMS key, if any.
    pub kms_key: Option<String>,
    /// What it delivered.
    pub activity: Activity,
    /// No object for longer than its expected interval (or never one).
    pub silent: bool,
    /// The role can be assumed (and exists, where that can be seen).
    pub role: Option<Health>,
    /// The bucket can be listed under each prefix.
    pub bucket_readable: Option<Health>,
    /// The KMS key can be described through the role.
    pub kms: Option<Health>,
}

impl SourceStatus {
    /// True when every check that ran passed and the source is not silent.
    pub fn healthy(&self) -> bool {
        !self.silent
            && [&self.role, &self.bucket_readable, &self.kms]
                .iter()
                .all(|h| h.as_ref().is_none_or(Health::is_ok))
    }
}

/// Each source's settings and recorded activity (no AWS calls).
pub async fn list(ctx: &Context, sources: &SourcesFile) -> Result<Vec<SourceStatus>> {
    let store = ctx.store().await?;
    let now = Utc::now();
    let mut out = Vec::new();
    for source in &sources.sources {
        let activity = activity(store.kv(), &source.id, now).await?;
        let silent = source.expected_interval_minutes.is_some_and(|minutes| {
            // An interval too large to represent can never have elapsed.
            let limit = i64::try_from(minutes).ok().and_then(chrono::Duration::try_minutes);
            limit.is_some_and(|limit| {
                activity.last_object.as_ref().is_none_or(|last| now - last.at > limit)
            })
        });
        out.push(SourceStatus {
            id: source.id.clone(),
            name: source.name().to_owned(),
            account: source.account.clone(),
            bucket: source.bucket.clone(),
            prefixes: source
                .prefixes
                .iter()
                .map(|p| (p.prefix.clone(), p.log_types.clone()))
                .collect(),
            role_arn: source.role_arn.clone(),
            kms_key: source.kms_key.clone(),
            activity,
            silent,
            role: None,
            bucket_readable: None,
            kms: None,
        });
    }
    Ok(out)
}

/// [`list`] plus, per source: can its role be assumed (and does it exist), can its bucket
/// be listed under each prefix through that role, can its KMS key be used.
pub async fn check(ctx: &Context, sources: &SourcesFile) -> Result<Vec<SourceStatus>> {
    let mut out = list(ctx, sources).await?;
    for (status, source) in out.iter_mut().zip(&sources.sources) {
        let session = match assume(ctx, source).await {
            Ok(session) => session,
            Err(err) => {
                status.role = Some(Health::Failed(format!("cannot assume role: {err:#}")));
                status.bucket_readable =
                    Some(Health::Failed("not checked: the role cannot be assumed".into()));
                status.kms = source
                    .kms_key
                    .as_ref()
                    .map(|_| Health::Failed("not checked: the role cannot be assumed".into()));
                continue;
            }
        };
        status.role = Some(match &source.role_arn {
            Some(arn) => role_exists(&session, arn).await,
            None => Health::NotSet,
        });
        status.bucket_readable = Some(bucket_health(&session, source).await);
        status.kms = match &source.kms_key {
            Some(key_id) => Some(kms_health(&session, key_id).await),
            None => Some(Health::NotSet),
        };
    }
    Ok(out)
}

/// After a successful AssumeRole: GetRole on the role through itself. On AWS a missing
/// role already fails AssumeRole; the emulator (moto) hands out credentials for any role
/// ARN, so this is where a missing role shows there. A role not allowed to read itself
/// (AccessDenied) counts as fine: AssumeRole proved it exists.
async fn role_exists(session: &Session, arn: &str) -> Health {
    let Some((_, name)) = role_account(arn) else {
        return Health::Failed(format!("{arn} is not a role ARN"));
    };
    let name = name.rsplit('/').next().unwrap_or(name);
    match session.home().iam().get_role().role_name(name).send().await {
        Ok(_) => Health::Ok,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => {
            Health::Failed(format!("role {arn} does not exist"))
        }
        Err(err) if denied(&err) => Health::Ok,
        Err(err) => Health::Failed(format!("role {arn}: GetRole failed: {}", chain(&err))),
    }
}

/// Whether a call was refused for lack of permission: HTTP 403, or the `AccessDenied` code
/// (moto answers a cross-account S3 refusal with 400 and that code).
fn denied<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    err.raw_response().is_some_and(|r| r.status().as_u16() == 403)
        || err.as_service_error().and_then(ProvideErrorMetadata::code) == Some("AccessDenied")
}

/// ListObjectsV2 (one key) under each prefix of the source, through its session.
async fn bucket_health(session: &Session, source: &SourceConfig) -> Health {
    let s3 = session.home().s3();
    for rule in &source.prefixes {
        let result = s3
            .list_objects_v2()
            .bucket(&source.bucket)
            .prefix(&rule.prefix)
            .max_keys(1)
            .send()
            .await;
        let Err(err) = result else { continue };
        let bucket = &source.bucket;
        let via = match &source.role_arn {
            Some(arn) => format!(" through {arn}"),
            None => String::new(),
        };
        let message = if err.as_service_error().is_some_and(|e| e.is_no_such_bucket()) {
            format!("bucket {bucket} does not exist")
        } else if denied(&err) {
            format!("access denied listing s3://{bucket}/{}{via}", rule.prefix)
        } else if err.raw_response().is_some_and(|r| r.status().as_u16() == 404) {
            format!("bucket {bucket} does not exist")
        } else {
            format!("listing s3://{bucket}/{}{via}: {}", rule.prefix, chain(&err))
        };
        return Health::Failed(message);
    }
    Health::Ok
}

/// DescribeKey through the source's session.
async fn kms_health(session: &Session, key_id: &str) -> Health {
    match session.home().kms().describe_key().key_id(key_id).send().await {
        Ok(_) => Health::Ok,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found_exception()) => {
            Health::Failed(format!("KMS key {key_id} does not exist"))
        }
        Err(err) => Health::Failed(format!("KMS key {key_id}: {}", chain(&err))),
    }
}
