//! `caracal.toml`: accounts, regions, store, schedule; with `CARACAL_*` environment overrides.
//!
//! Every table rejects unknown keys so a typo is an error, not a silently ignored setting.
//! `caracal config --example` prints [`EXAMPLE`], which a test parses back.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::detect_config::{
    DestinationConfig, EXAMPLE as DETECTION_EXAMPLE, RulesConfig, Secret,
};
use crate::error::Error;

/// An annotated example configuration, printed by `caracal config --example`.
pub const EXAMPLE: &str = r#"# caracal.toml: every key is optional; shown values are the defaults unless noted.

[aws]
# Regions to scan. Empty means every region enabled for the account (DescribeRegions).
regions = ["us-east-1"]
# Send every AWS call to this endpoint (an emulator). AWS_ENDPOINT_URL is honoured too.
# endpoint_url = "http://127.0.0.1:5000"
# Named profile from ~/.aws/config; unset means the default credential chain.
# profile = "security-audit"
# Attempts per call, including the first.
max_attempts = 5
# "standard": exponential backoff with jitter on throttling and transient errors, one
# retry budget per account, region and service. "adaptive" adds the SDK's client-side
# rate limiter (per account, region and service), which slows every caller after a
# throttle: good against steady rate limits, slow when throttling is not about the rate.
retry_mode = "standard"
# Seconds to wait for a TCP connection, and for one whole operation including retries.
connect_timeout_secs = 5
operation_timeout_secs = 60

# One table per account to scan through an assumed role. Without any, caracal scans the
# account the credentials belong to.
# [[accounts]]
# id = "123456789012"
# role_name = "CaracalAudit"           # role assumed for scanning
# remediation_role_name = "CaracalFix" # role assumed for remediation (optional)
# external_id = "shared-secret"        # optional

# Scan every member account of an AWS Organization (instead of, or beside, [[accounts]]):
# ListAccounts from the credentials' account (the management account or a delegated
# administrator), then the named role is assumed in each. An account that cannot be
# reached (role missing, access denied) is reported and the others are scanned.
# [organization]
# role_name = "CaracalAudit"           # required: role assumed in every member account
# remediation_role_name = "CaracalFix" # optional
# external_id = "shared-secret"        # optional
# organizational_units = ["ou-ab12-cdef3456"]  # only accounts under these OUs (nested too)
# tags = ["Environment=prod"]          # only accounts with one of these tags ("Key" or "Key=Value")
# statuses = ["ACTIVE"]                # account statuses to scan
# exclude_accounts = []                # never these account ids
# concurrency = 4                      # accounts scanned at once

[store]
# "sqlite" (embedded file, the default) or "dynamodb".
backend = "sqlite"

[store.sqlite]
path = "caracal.db"

[store.dynamodb]
# Tables are named <prefix>-resources, <prefix>-compliance, ...
table_prefix = "caracal"
# region = "us-east-1"
# endpoint_url = "http://127.0.0.1:5000"

[scan]
# Cron schedule for `caracal serve` (5 fields, or 6 with seconds first). Unset: no schedule.
# schedule = "0 */6 * * *"
# Describe calls in flight at once.
concurrency = 8
# Resource types to scan; empty means every type caracal knows.
types = []
# Types never scanned, and regions never scanned. Regions come from [aws] regions, or when
# that is empty from DescribeRegions (the regions enabled for each account). A region
# where AWS denies the account (a service control policy) is reported and skipped.
exclude_types = []
exclude_regions = []
# Where resource details come from. "auto": AWS Config's recorded configuration items
# where a recorder is on and records the type (S3 buckets today: one batch read per 100
# buckets instead of eight calls per bucket), direct API calls elsewhere and for any
# detail an item lacks; "api": direct calls only; "config": items wherever caracal can map
# them, recorder or not. Listings (what exists) always come from the service itself.
source = "auto"
# Items captured longer ago than this are read again through the API. Unset: any age
# (with continuous recording an unchanged resource keeps its old capture time).
# config_max_age_hours = 24

[policies]
# Policy pack folders evaluated after each scan.
paths = ["policies"]
# A virtualenv (same Python minor version as caracal's) whose site-packages the policies
# import third-party modules from; `caracal test --venv DIR --install-requirements FILE`
# creates and fills one. Unset: the standard library only.
# venv = ".venv-policies"
# Only the policies these packs (PackIDs of `AnalysisType: pack` specs) name; empty: all.
packs = []
# Alert when a resource starts failing a policy (one alert per resource and policy,
# through [[destinations]]); the alert is resolved when the resource passes again.
alerts = true
# Days of compliance transitions (verdict changes) to keep; 0 keeps them forever.
history_days = 365

[remediation]
# Fix failing resources automatically after each evaluation, when their policy names an
# `AutoRemediationID` (with `AutoRemediationParameters`). Off unless set here.
auto = false
# Circuit breaker per policy and run: at most this many resources, and at most this
# percentage of the policy's evaluated resources. Tripping it stops that policy's run,
# audits the refusals and raises an alert.
max_resources = 10
max_percent = 100
# Only these accounts / resource types (empty: all), never these.
accounts = []
resource_types = []
deny_accounts = []
deny_resource_types = []
# Resources carrying one of these tags ("Key" or "Key=Value") are never changed
# automatically; with allow_tags set, only resources carrying one of those are.
deny_tags = ["caracal:no-remediate"]
allow_tags = []
"#;

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// AWS client settings.
    pub aws: AwsConfig,
    /// Accounts to scan through an assumed role.
    pub accounts: Vec<AccountConfig>,
    /// Member accounts discovered from AWS Organizations.
    pub organization: Option<OrganizationConfig>,
    /// Where state is kept.
    pub store: StoreConfig,
    /// Scanner settings.
    pub scan: ScanConfig,
    /// Policy packs.
    pub policies: PoliciesConfig,
    /// Automatic remediation.
    pub remediation: RemediationConfig,
    /// Rule packs run on processed logs.
    pub rules: RulesConfig,
    /// Where alerts go.
    pub destinations: Vec<DestinationConfig>,
}

/// AWS client settings (`[aws]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsConfig {
    /// Regions to scan; empty means every region enabled for the account (DescribeRegions).
    pub regions: Vec<String>,
    /// Endpoint override for every service (an emulator).
    pub endpoint_url: Option<String>,
    /// Named profile; unset means the default chain.
    pub profile: Option<String>,
    /// Attempts per call including the first.
    pub max_attempts: u32,
    /// How throttled and transient failures are retried.
    pub retry_mode: RetryMode,
    /// TCP connect timeout in seconds.
    pub connect_timeout_secs: u64,
    /// Whole-operation timeout in seconds, retries included.
    pub operation_timeout_secs: u64,
}

impl Default for AwsConfig {
    fn default() -> Self {
        Self {
            regions: Vec::new(),
            endpoint_url: None,
            profile: None,
            max_attempts: 5,
            retry_mode: RetryMode::Standard,
            connect_timeout_secs: 5,
            operation_timeout_secs: 60,
        }
    }
}

/// The SDK retry mode (`[aws] retry_mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetryMode {
    /// Exponential backoff with jitter; a retry budget per account, region and service.
    #[default]
    Standard,
    /// Standard plus a client-side rate limiter shared per account, region and service.
    Adaptive,
}

/// One account reached by assuming a role (`[[accounts]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The 12-digit account id.
    pub id: String,
    /// Role assumed for scanning.
    pub role_name: Option<String>,
    /// Role assumed for remediation; falls back to `role_name`.
    pub remediation_role_name: Option<String>,
    /// External id required by the role's trust policy.
    pub external_id: Option<String>,
}

/// Member accounts discovered from AWS Organizations (`[organization]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationConfig {
    /// Role assumed for scanning in every discovered account.
    pub role_name: String,
    /// Role assumed for remediation; falls back to `role_name`.
    pub remediation_role_name: Option<String>,
    /// External id required by the role's trust policy.
    pub external_id: Option<String>,
    /// Only accounts under one of these OU ids (directly or in a nested OU); empty: all.
    #[serde(default)]
    pub organizational_units: Vec<String>,
    /// Only accounts carrying one of these tags (`Key` or `Key=Value`); empty: all.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Account statuses to scan (`ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`).
    #[serde(default = "active_only")]
    pub statuses: Vec<String>,
    /// Account ids never scanned.
    #[serde(default)]
    pub exclude_accounts: Vec<String>,
    /// Accounts scanned at once.
    #[serde(default = "four")]
    pub concurrency: usize,
}

fn active_only() -> Vec<String> {
    vec!["ACTIVE".to_owned()]
}

fn four() -> usize {
    4
}

impl OrganizationConfig {
    /// The [`AccountConfig`] of a discovered account: this table's roles and external id.
    pub fn account(&self, id: &str) -> AccountConfig {
        AccountConfig {
            id: id.to_owned(),
            role_name: Some(self.role_name.clone()),
            remediation_role_name: self.remediation_role_name.clone(),
            external_id: self.external_id.clone(),
        }
    }
}

/// Which store backend to use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreBackend {
    /// An embedded SQLite file.
    #[default]
    Sqlite,
    /// DynamoDB tables.
    Dynamodb,
}

/// Where state is kept (`[store]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The backend in use.
    pub backend: StoreBackend,
    /// SQLite settings.
    pub sqlite: SqliteConfig,
    /// DynamoDB settings.
    pub dynamodb: DynamoDbConfig,
}

/// `[store.sqlite]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqliteConfig {
    /// The database file; created when missing.
    pub path: PathBuf,
}

impl Default for SqliteConfig {
    fn default() -> Self {
        Self { path: PathBuf::from("caracal.db") }
    }
}

/// `[store.dynamodb]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DynamoDbConfig {
    /// Prefix of every table name.
    pub table_prefix: String,
    /// Region of the tables; unset means the SDK's region.
    pub region: Option<String>,
    /// Endpoint override for DynamoDB only.
    pub endpoint_url: Option<String>,
}

impl Default for DynamoDbConfig {
    fn default() -> Self {
        Self { table_prefix: "caracal".into(), region: None, endpoint_url: None }
    }
}

/// Scanner settings (`[scan]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanConfig {
    /// Cron schedule for `caracal serve`.
    pub schedule: Option<String>,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Types to scan; empty means all.
    pub types: Vec<String>,
    /// Types never scanned.
    pub exclude_types: Vec<String>,
    /// Regions never scanned.
    pub exclude_regions: Vec<String>,
    /// Where resource details come from (`[scan] source`).
    pub source: ScanSource,
    /// AWS Config items older than this many hours are read through the API instead.
    pub config_max_age_hours: Option<u64>,
}

/// Where a scan reads resource details from (`[scan] source`); see the sample config.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanSource {
    /// AWS Config items where a recorder records the type; direct calls elsewhere.
    #[default]
    Auto,
    /// Direct API calls only.
    Api,
    /// AWS Config items for every type caracal maps, whatever the recorder says.
    Config,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            schedule: None,
            concurrency: 8,
            types: Vec::new(),
            exclude_types: Vec::new(),
            exclude_regions: Vec::new(),
            source: ScanSource::Auto,
            config_max_age_hours: None,
        }
    }
}

/// Policy packs (`[policies]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoliciesConfig {
    /// Folders to load.
    pub paths: Vec<PathBuf>,
    /// A virtualenv whose site-packages third-party imports of policies come from.
    pub venv: Option<PathBuf>,
    /// Only the policies these packs name (PackIDs); empty: every policy.
    pub packs: Vec<String>,
    /// Alert when a resource starts failing a policy; resolve when it passes again.
    pub alerts: bool,
    /// Days of compliance transitions to keep; 0 keeps them forever.
    pub history_days: u32,
}

impl Default for PoliciesConfig {
    fn default() -> Self {
        Self {
            paths: vec![PathBuf::from("policies")],
            venv: None,
            packs: Vec::new(),
            alerts: true,
            history_days: 365,
        }
    }
}

/// Automatic remediation (`[remediation]`): off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemediationConfig {
    /// Fix failing resources whose policy names an `AutoRemediationID`.
    pub auto: bool,
    /// Circuit breaker: resources per policy and run.
    pub max_resources: usize,
    /// Circuit breaker: percentage of the policy's evaluated resources per run.
    pub max_percent: f64,
    /// Only these accounts; empty: all.
    pub accounts: Vec<String>,
    /// Only these resource types; empty: all.
    pub resource_types: Vec<String>,
    /// Never these accounts.
    pub deny_accounts: Vec<String>,
    /// Never these resource types.
    pub deny_resource_types: Vec<String>,
    /// Never resources carrying one of these tags (`Key` or `Key=Value`).
    pub deny_tags: Vec<String>,
    /// When set, only resources carrying one of these tags.
    pub allow_tags: Vec<String>,
}

impl Default for RemediationConfig {
    fn default() -> Self {
        Self {
            auto: false,
            max_resources: 10,
            max_percent: 100.0,
            accounts: Vec::new(),
            resource_types: Vec::new(),
            deny_accounts: Vec::new(),
            deny_resource_types: Vec::new(),
            deny_tags: vec!["caracal:no-remediate".into()],
            allow_tags: Vec::new(),
        }
    }
}

impl Config {
    /// Parses TOML text; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self, Error> {
        let config: Config = toml::from_str(text).map_err(|e| Error::ConfigInvalid {
            path: origin.to_owned(),
            reason: one_line(&e.to_string()),
        })?;
        config
            .validate()
            .map_err(|reason| Error::ConfigInvalid { path: origin.to_owned(), reason })?;
        Ok(config)
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::ConfigRead { path: path.to_owned(), source })?;
        Self::from_toml(&text, path)
    }

    /// Loads `path` if given (it must exist), else `./caracal.toml` if present, else defaults;
    /// then applies the environment overrides.
    pub fn discover(path: Option<&Path>) -> Result<Self, Error> {
        let mut config = match path {
            Some(p) => Self::load(p)?,
            None if Path::new("caracal.toml").is_file() => Self::load(Path::new("caracal.toml"))?,
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    /// Applies `CARACAL_*` overrides read through `get`:
    ///
    /// | variable | overrides |
    /// | --- | --- |
    /// | `CARACAL_STORE` | `store.backend` (`sqlite` / `dynamodb`) |
    /// | `CARACAL_DB` | `store.sqlite.path` |
    /// | `CARACAL_DYNAMODB_TABLE_PREFIX` | `store.dynamodb.table_prefix` |
    /// | `CARACAL_REGIONS` | `aws.regions` (comma separated) |
    /// | `CARACAL_ENDPOINT_URL` | `aws.endpoint_url` |
    /// | `CARACAL_SCHEDULE` | `scan.schedule` |
    /// | `CARACAL_SCAN_SOURCE` | `scan.source` (`auto` / `api` / `config`) |
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), Error> {
        if let Some(v) = get("CARACAL_STORE") {
            self.store.backend = match v.to_ascii_lowercase().as_str() {
                "sqlite" => StoreBackend::Sqlite,
                "dynamodb" => StoreBackend::Dynamodb,
                _ => {
                    return Err(Error::EnvInvalid {
                        name: "CARACAL_STORE",
                        value: v,
                        reason: "expected sqlite or dynamodb".into(),
                    });
                }
            };
        }
        if let Some(v) = get("CARACAL_DB") {
            self.store.sqlite.path = PathBuf::from(v);
        }
        if let Some(v) = get("CARACAL_DYNAMODB_TABLE_PREFIX") {
            self.store.dynamodb.table_prefix = v;
        }
        if let Some(v) = get("CARACAL_REGIONS") {
            self.aws.regions =
                v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        }
        if let Some(v) = get("CARACAL_ENDPOINT_URL") {
            self.aws.endpoint_url = Some(v);
        }
        if let Some(v) = get("CARACAL_SCHEDULE") {
            self.scan.schedule = Some(v);
        }
        if let Some(v) = get("CARACAL_SCAN_SOURCE") {
            self.scan.source = match v.to_ascii_lowercase().as_str() {
                "auto" => ScanSource::Auto,
                "api" => ScanSource::Api,
                "config" => ScanSource::Config,
                _ => {
                    return Err(Error::EnvInvalid {
                        name: "CARACAL_SCAN_SOURCE",
                        value: v,
                        reason: "expected auto, api or config".into(),
                    });
                }
            };
        }
        self.validate().map_err(|reason| Error::EnvInvalid {
            name: "CARACAL_*",
            value: String::new(),
            reason,
        })
    }

    /// Checks values serde cannot: account ids, the schedule, limits.
    pub fn validate(&self) -> Result<(), String> {
        for account in &self.accounts {
            if account.id.len() != 12 || !account.id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("accounts: id {:?} is not a 12-digit account id", account.id));
            }
        }
        if let Some(org) = &self.organization {
            if org.role_name.trim().is_empty() {
                return Err("organization.role_name must not be empty".into());
            }
            if org.concurrency == 0 {
                return Err("organization.concurrency must be at least 1".into());
            }
            for id in &org.exclude_accounts {
                if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!(
                        "organization.exclude_accounts: {id:?} is not a 12-digit account id"
                    ));
                }
            }
            if let Some(tag) =
                org.tags.iter().find(|t| t.split('=').next().is_none_or(str::is_empty))
            {
                return Err(format!("organization.tags: {tag:?} is not \"Key\" or \"Key=Value\""));
            }
        }
        for region in &self.scan.exclude_regions {
            check_region(region).map_err(|e| format!("scan.exclude_regions: {region:?} {e}"))?;
        }
        if let Some(schedule) = &self.scan.schedule {
            parse_schedule(schedule).map_err(|e| format!("scan.schedule {schedule:?}: {e}"))?;
        }
        if self.scan.concurrency == 0 {
            return Err("scan.concurrency must be at least 1".into());
        }
        if self.aws.max_attempts == 0 {
            return Err("aws.max_attempts must be at least 1".into());
        }
        let percent = self.remediation.max_percent;
        if !(percent > 0.0 && percent <= 100.0) {
            return Err(format!("remediation.max_percent {percent} must be in (0, 100]"));
        }
        // #11.8: a zero timeout fails every call; a bad URL fails them all later, unnamed.
        if self.aws.connect_timeout_secs == 0 {
            return Err("aws.connect_timeout_secs must be at least 1".into());
        }
        if self.aws.operation_timeout_secs == 0 {
            return Err("aws.operation_timeout_secs must be at least 1".into());
        }
        if let Some(url) = &self.aws.endpoint_url {
            check_url(url).map_err(|e| format!("aws.endpoint_url {url:?}: {e}"))?;
        }
        if let Some(url) = &self.store.dynamodb.endpoint_url {
            check_url(url).map_err(|e| format!("store.dynamodb.endpoint_url {url:?}: {e}"))?;
        }
        for region in &self.aws.regions {
            check_region(region).map_err(|e| format!("aws.regions: {region:?} {e}"))?;
        }
        if let Some(region) = &self.store.dynamodb.region {
            check_region(region).map_err(|e| format!("store.dynamodb.region {region:?} {e}"))?;
        }
        if self.store.dynamodb.table_prefix.is_empty() {
            return Err("store.dynamodb.table_prefix must not be empty".into());
        }
        crate::detect_config::validate(&self.rules, &self.destinations)?;
        Ok(())
    }
}

/// Checks an endpoint URL: `http://` or `https://`, a host, an optional numeric port, an
/// optional path; no spaces.
fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or("is not a URL: it must start with http:// or https://")?;
    if url.chars().any(char::is_whitespace) {
        return Err("is not a URL: it contains whitespace".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        // An IPv6 literal without a port (`[::1]`) has colons inside brackets.
        Some((host, port)) if !port.ends_with(']') => {
            if port.is_empty()
                || !port.bytes().all(|b| b.is_ascii_digit())
                || port.parse::<u16>().is_err()
            {
                return Err(format!("is not a URL: port {port:?} is not a number from 0 to 65535"));
            }
            host
        }
        _ => authority,
    };
    if host.is_empty() || host.contains('@') {
        return Err("is not a URL: it has no host".into());
    }
    Ok(())
}

/// Checks the shape of a region name, such as `us-east-1`: lowercase letters, digits and
/// dashes.
fn check_region(region: &str) -> Result<(), String> {
    if region == "global" {
        return Err("is not an AWS region (global types are scanned whatever the regions)".into());
    }
    // Loose on purpose: emulators accept names such as `local`.
    let shaped = region.starts_with(|c: char| c.is_ascii_lowercase())
        && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if shaped { Ok(()) } else { Err("is not an AWS region name such as us-east-1".into()) }
}

/// Parses a cron schedule: 5 fields (minute first, as crontab: day of week 0-7 with 0
/// and 7 Sunday) or 6-7 (seconds first, as the `cron` crate reads them: day of week 1-7
/// from Sunday). Crontab runs when *either* a restricted day of month or a restricted day
/// of week matches, the `cron` crate only when both do: a 5-field schedule restricting
/// both is refused rather than run on other days than meant.
pub fn parse_schedule(text: &str) -> Result<cron::Schedule, String> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    let full = match fields.as_slice() {
        [minute, hour, day, month, weekday] => {
            let restricted = |f: &str| f != "*" && f != "?";
            if restricted(day) && restricted(weekday) {
                return Err(format!(
                    "restricts both day of month ({day}) and day of week ({weekday}); \
                     crontab runs on either, this scheduler only on both: use one"
                ));
            }
            format!("0 {minute} {hour} {day} {month} {}", crontab_weekdays(weekday)?)
        }
        _ => text.to_owned(),
    };
    full.parse::<cron::Schedule>().map_err(|e| e.to_string())
}

/// A crontab day-of-week field (0-7, Sunday 0 or 7; names) in the `cron` crate's
/// numbering (1-7 from Sunday). Steps (`/2`) keep their number.
fn crontab_weekdays(field: &str) -> Result<String, String> {
    let day = |text: &str| -> Result<String, String> {
        match text.parse::<u8>() {
            Ok(n @ 0..=6) => Ok((n + 1).to_string()),
            Ok(7) => Ok("1".to_owned()),
            Ok(n) => Err(format!("day of week {n} is not 0-7")),
            Err(_) => Ok(text.to_owned()),
        }
    };
    let mut items = Vec::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (item, None),
        };
        let mapped = match range.split_once('-') {
            // A range ending on Sunday as 7 (`5-7`): up to Saturday, plus Sunday.
            Some((start, "7")) if start.parse::<u8>().is_ok() && step.is_none() => {
                format!("{}-7,1", day(start)?)
            }
            Some((start, end)) => format!("{}-{}", day(start)?, day(end)?),
            None => day(range)?,
        };
        items.push(match step {
            Some(step) => format!("{mapped}/{step}"),
            None => mapped,
        });
    }
    Ok(items.join(","))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_back_to_the_defaults_it_documents() {
        let parsed = Config::from_toml(EXAMPLE, Path::new("example.toml")).unwrap();
        let mut expected = Config::default();
        expected.aws.regions = vec!["us-east-1".into()];
        assert_eq!(parsed, expected);
    }

    #[test]
    fn organization_table_parses_with_defaults_and_rejects_bad_values() {
        let parsed = Config::from_toml(
            "[organization]\nrole_name = \"CaracalAudit\"\ntags = [\"env=prod\"]\n",
            Path::new("c.toml"),
        )
        .unwrap();
        let org = parsed.organization.unwrap();
        assert_eq!(org.statuses, ["ACTIVE"]);
        assert_eq!(org.concurrency, 4);
        assert_eq!(org.account("111122223333").role_name.as_deref(), Some("CaracalAudit"));
        for bad in [
            "[organization]\nrole_name = \"\"\n",
            "[organization]\nrole_name = \"r\"\nconcurrency = 0\n",
            "[organization]\nrole_name = \"r\"\nexclude_accounts = [\"12\"]\n",
            "[organization]\nrole_name = \"r\"\ntags = [\"=x\"]\n",
            "[organization]\nrole_name = \"r\"\nou = []\n",
        ] {
            assert!(Config::from_toml(bad, Path::new("c.toml")).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_key_is_an_error_naming_file_and_key() {
        let err =
            Config::from_toml("[aws]\nregoins = []\n", Path::new("/etc/caracal.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("/etc/caracal.toml: invalid configuration:"), "{msg}");
        assert!(msg.contains("regoins"), "{msg}");
        assert!(!msg.contains('\n'), "one line: {msg}");
    }

    #[test]
    fn bad_account_id_and_schedule_are_rejected() {
        let err =
            Config::from_toml("[[accounts]]\nid = \"12\"\n", Path::new("c.toml")).unwrap_err();
        assert!(err.to_string().contains("12-digit"), "{err}");
        let err = Config::from_toml("[scan]\nschedule = \"every day\"\n", Path::new("c.toml"))
            .unwrap_err();
        assert!(err.to_string().contains("scan.schedule"), "{err}");
    }

    fn invalid(toml: &str) -> String {
        match Config::from_toml(toml, Path::new("c.toml")) {
            Ok(_) => panic!("accepted: {toml}"),
            Err(e) => e.to_string(),
        }
    }

    // #11.8: `caracal config check` accepted zero timeouts and `endpoint_url = "not a url"`.
    #[test]
    fn zero_timeouts_are_rejected_naming_the_key() {
        let msg = invalid("[aws]\nconnect_timeout_secs = 0\n");
        assert!(msg.contains("aws.connect_timeout_secs must be at least 1"), "{msg}");
        let msg = invalid("[aws]\noperation_timeout_secs = 0\n");
        assert!(msg.contains("aws.operation_timeout_secs must be at least 1"), "{msg}");
        assert!(!msg.contains('\n'), "one line: {msg}");
    }

    #[test]
    fn endpoint_urls_must_be_http_urls() {
        let msg = invalid("[aws]\nendpoint_url = \"not a url\"\n");
        assert!(msg.contains("aws.endpoint_url \"not a url\": is not a URL"), "{msg}");
        let msg = invalid("[store.dynamodb]\nendpoint_url = \"localhost:8000\"\n");
        assert!(msg.contains("store.dynamodb.endpoint_url"), "{msg}");
        for bad in ["http://", "http://host:port", "http://host:99999", "https://a b", "ftp://h"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        for good in [
            "http://127.0.0.1:5000",
            "https://dynamodb.eu-west-1.amazonaws.com",
            "http://localhost:4566/",
            "http://[::1]:8000",
            "http://[::1]",
        ] {
            assert_eq!(check_url(good), Ok(()), "{good}");
        }
        let mut c = Config::default();
        let err = c.apply_env(|k| (k == "CARACAL_ENDPOINT_URL").then(|| "nope".into()));
        assert!(err.is_err_and(|e| e.to_string().contains("aws.endpoint_url")));
    }

    #[test]
    fn regions_must_look_like_regions() {
        let msg = invalid("[aws]\nregions = [\"us-east-1\", \"US East\"]\n");
        assert!(msg.contains("aws.regions: \"US East\" is not an AWS region name"), "{msg}");
        let msg = invalid("[aws]\nregions = [\"global\"]\n");
        assert!(msg.contains("global types are scanned"), "{msg}");
        let msg = invalid("[store.dynamodb]\nregion = \"\"\n");
        assert!(msg.contains("store.dynamodb.region"), "{msg}");
        assert!(check_region("us-east-1 ").is_err());
        for good in ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1", "local"] {
            assert_eq!(check_region(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn five_field_cron_is_accepted() {
        assert!(parse_schedule("0 */6 * * *").is_ok());
        assert!(parse_schedule("0 0 */6 * * *").is_ok());
        // Crontab's day-of-week numbers: 1 is Monday, 0 and 7 Sunday.
        let next = |text: &str| {
            let after = chrono::DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z").unwrap();
            let s = parse_schedule(text).unwrap();
            s.after(&after.with_timezone(&chrono::Utc))
                .next()
                .unwrap()
                .format("%a %F %R")
                .to_string()
        };
        assert_eq!(next("0 9 * * 1"), "Mon 2026-12-14 09:00");
        assert_eq!(next("0 9 * * 0"), "Sun 2026-12-13 09:00");
        assert_eq!(next("0 9 * * 7"), "Sun 2026-12-13 09:00");
        assert_eq!(next("0 9 * * 5-7"), "Fri 2026-12-11 09:00");
        assert_eq!(next("0 9 * * 1-5"), "Tue 2026-12-08 09:00");
        assert_eq!(next("0 9 * * MON"), "Mon 2026-12-14 09:00");
        assert!(parse_schedule("0 0 1 * 1").unwrap_err().contains("either"));
        assert!(parse_schedule("0 0 * * 8").is_err());
    }

    #[test]
    fn env_overrides_apply_and_bad_values_are_named() {
        let mut c = Config::default();
        c.apply_env(|k| match k {
            "CARACAL_STORE" => Some("DynamoDB".into()),
            "CARACAL_REGIONS" => Some("us-east-1, eu-west-1".into()),
            "CARACAL_SCAN_SOURCE" => Some("API".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.scan.source, ScanSource::Api);
        assert_eq!(c.store.backend, StoreBackend::Dynamodb);
        assert_eq!(c.aws.regions, ["us-east-1", "eu-west-1"]);
        let err = c.apply_env(|k| (k == "CARACAL_STORE").then(|| "postgres".into())).unwrap_err();
        assert!(err.to_string().contains("CARACAL_STORE"), "{err}");
        let err =
            c.apply_env(|k| (k == "CARACAL_SCAN_SOURCE").then(|| "cache".into())).unwrap_err();
        assert!(err.to_string().contains("CARACAL_SCAN_SOURCE"), "{err}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = Config::load(Path::new("/nonexistent/caracal.toml")).unwrap_err();
        assert!(err.to_string().starts_with("/nonexistent/caracal.toml: cannot read"), "{err}");
    }
}
