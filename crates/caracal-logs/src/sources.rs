//! Source configs: which log types may appear under which S3 key prefixes.
//!
//! A sources file (YAML, or TOML when it ends in `.toml`) lists buckets and, per key
//! prefix, the log types allowed there:
//!
//! ```yaml
//! sources:
//!   - id: org-trail
//!     label: Organization trail
//!     bucket: my-logs
//!     prefixes:
//!       - prefix: AWSLogs/
//!         log_types: [AWS.CloudTrail]
//!       - prefix: vpcflow/
//!         log_types: [AWS.VPCFlow]
//!   - id: audit-logs
//!     name: Audit account logs
//!     account: "222222222222"
//!     bucket: audit-logs
//!     role_arn: arn:aws:iam::222222222222:role/CaracalLogReader
//!     external_id: caracal
//!     kms_key: arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab
//!     expected_interval_minutes: 60
//!     prefixes:
//!       - prefix: ""
//!         log_types: [AWS.CloudTrail]
//! ```
//!
//! A source in another account is read through `role_arn` (with `external_id` when its
//! trust policy asks for one); `kms_key` names the key its objects are encrypted with, which
//! that role must be allowed to use. `caracal sources check` verifies each of these, and
//! `expected_interval_minutes` makes a source that stops delivering show as silent.
//!
//! An object is read with the candidates of the longest prefix that matches its key,
//! among the sources for its bucket, and its events get that source's `p_source_id` and
//! `p_source_label`. An object no prefix matches is not read and nothing is lost: `poll`
//! keeps its message on the queue (it is retried and then dead-lettered, so fixing the
//! config and redriving recovers it) and lists it under `failed`; `process s3://...`
//! counts it as one record error ([`RejectCode::Unrouted`](crate::RejectCode::Unrouted)).

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::error::Error;
use crate::event::RowIds;
use crate::normalize::SourceInfo;
use crate::parsers::Parser;
use crate::process::Processor;

/// A sources file: the top-level `sources` list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesFile {
    /// The configured sources.
    pub sources: Vec<SourceConfig>,
}

/// One log source: a bucket and the log types allowed under each of its key prefixes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// `p_source_id` of its events: a stable name.
    pub id: String,
    /// `p_source_label` of its events, the name shown for it; the id when left out.
    #[serde(default, alias = "name")]
    pub label: Option<String>,
    /// The 12-digit AWS account the bucket lives in, if known.
    #[serde(default)]
    pub account: Option<String>,
    /// The S3 bucket the objects are in.
    pub bucket: String,
    /// Key prefixes and the log types each allows; `""` matches every key.
    pub prefixes: Vec<PrefixRule>,
    /// A role to assume for reading the bucket (a log bucket in another account).
    #[serde(default)]
    pub role_arn: Option<String>,
    /// The external id the role's trust policy requires.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The KMS key (id or ARN) the objects are encrypted with; the reading role needs
    /// `kms:Decrypt` on it.
    #[serde(default)]
    pub kms_key: Option<String>,
    /// How often objects normally arrive; longer without one and the source is silent.
    #[serde(default)]
    pub expected_interval_minutes: Option<u64>,
}

impl SourceConfig {
    /// The name shown for the source: its label, else its id.
    pub fn name(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.id)
    }

    /// Checks the reading settings: a role ARN's shape, an external id only with a role,
    /// a 12-digit account.
    fn validate(&self) -> Result<(), String> {
        if let Some(account) = &self.account
            && !(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!("source {:?}: account {account:?} is not a 12-digit id", self.id));
        }
        if let Some(arn) = &self.role_arn
            && role_account(arn).is_none()
        {
            return Err(format!(
                "source {:?}: role_arn {arn:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                self.id
            ));
        }
        if self.external_id.is_some() && self.role_arn.is_none() {
            return Err(format!("source {:?}: external_id is set without role_arn", self.id));
        }
        Ok(())
    }
}

/// The account id and role name (with its path) of an IAM role ARN.
pub fn role_account(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let name = resource.strip_prefix("role/")?;
    let ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (ok && !name.is_empty()).then_some((account, name))
}

/// The log types allowed under one key prefix.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixRule {
    /// The key prefix, such as `AWSLogs/111122223333/CloudTrail/`.
    pub prefix: String,
    /// The candidate log types for objects under it (names as `caracal logs types` lists).
    pub log_types: Vec<String>,
}

/// Why a sources file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceConfigError {
    /// The file cannot be read.
    #[error("cannot read sources file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid sources file.
    #[error("invalid sources file {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A prefix names a log type that is neither built in nor a loaded custom schema.
    #[error(
        "sources file {path}: source {source_id:?} prefix {prefix:?}: unknown log type {log_type:?}"
    )]
    UnknownLogType {
        /// The file.
        path: String,
        /// The source naming it.
        source_id: String,
        /// The prefix naming it.
        prefix: String,
        /// The unknown name.
        log_type: String,
    },
}

impl SourcesFile {
    /// Reads a sources file (TOML when the name ends in `.toml`, YAML otherwise) and checks
    /// every log type against `known`.
    pub fn load(path: &Path, known: &[&dyn Parser]) -> Result<Self, SourceConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| SourceConfigError::Read { path: name.clone(), source })?;
        let toml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        Self::parse(&text, toml, &name, known)
    }

    /// Parses sources from text (`toml` or YAML); `name` is the file name used in errors.
    pub fn parse(
        text: &str,
        toml: bool,
        name: &str,
        known: &[&dyn Parser],
    ) -> Result<Self, SourceConfigError> {
        let invalid = |reason: String| SourceConfigError::Invalid { path: name.into(), reason };
        let file: SourcesFile = if toml {
            toml::from_str(text).map_err(|e| invalid(e.to_string()))?
        } else {
            serde_norway::from_str(text).map_err(|e| invalid(e.to_string()))?
        };
        let mut seen = std::collections::HashSet::new();
        for source in &file.sources {
            source.validate().map_err(invalid)?;
            if source.prefixes.is_empty() {
                return Err(invalid(format!("source {:?} has no prefixes", source.id)));
            }
            for rule in &source.prefixes {
                if !seen.insert((source.bucket.as_str(), rule.prefix.as_str())) {
                    return Err(invalid(format!(
                        "prefix {:?} of bucket {:?} is configured twice",
                        rule.prefix, source.bucket
                    )));
                }
                if rule.log_types.is_empty() {
                    return Err(invalid(format!(
                        "source {:?} prefix {:?} allows no log types",
                        source.id, rule.prefix
                    )));
                }
                if let Some(bad) = rule.log_types.iter().find(|t| {
                    !known.iter().any(|p| p.log_type() == crate::catalog::current_name(t))
                }) {
                    return Err(SourceConfigError::UnknownLogType {
                        path: name.into(),
                        source_id: source.id.clone(),
                        prefix: rule.prefix.clone(),
                        log_type: bad.clone(),
                    });
                }
            }
        }
        Ok(file)
    }

    /// The source and prefix rule for an object: the longest prefix matching `key` among
    /// the sources for `bucket`.
    pub fn route(&self, bucket: &str, key: &str) -> Option<(&SourceConfig, &PrefixRule)> {
        self.sources
            .iter()
            .filter(|s| s.bucket == bucket)
            .flat_map(|s| s.prefixes.iter().map(move |r| (s, r)))
            .filter(|(_, r)| key.starts_with(&r.prefix))
            .max_by_key(|(_, r)| r.prefix.len())
    }
}

/// Picks the [`Processor`] for each object: one for everything, or one per configured
/// source prefix (sharing one row-id generator, so ids stay unique).
#[derive(Debug)]
pub struct Router<'p> {
    routes: Routes<'p>,
}

#[derive(Debug)]
enum Routes<'p> {
    Single(Box<Processor<'p>>),
    Sources(Vec<Route<'p>>),
}

#[derive(Debug)]
struct Route<'p> {
    bucket: String,
    prefix: String,
    processor: Processor<'p>,
}

impl<'p> From<Processor<'p>> for Router<'p> {
    fn from(processor: Processor<'p>) -> Self {
        Router { routes: Routes::Single(Box::new(processor)) }
    }
}

impl<'p> Router<'p> {
    /// One processor per prefix of `sources`, its candidates taken from `available` (the
    /// built-in and custom parsers).
    pub fn from_sources(
        sources: &SourcesFile,
        available: &[&'p dyn Parser],
    ) -> Result<Self, Error> {
        let row_ids = Arc::new(RowIds::default());
        let mut routes = Vec::new();
        for source in &sources.sources {
            let info = SourceInfo::new(&source.id, source.label.as_deref().unwrap_or(&source.id));
            for rule in &source.prefixes {
                let candidates = rule
                    .log_types
                    .iter()
                    .map(|t| {
                        available
                            .iter()
                            .copied()
                            .find(|p| p.log_type() == crate::catalog::current_name(t))
                            .ok_or_else(|| Error::UnknownLogType(t.clone()))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                routes.push(Route {
                    bucket: source.bucket.clone(),
                    prefix: rule.prefix.clone(),
                    processor: Processor::new(candidates, info.clone())
                        .with_row_ids(row_ids.clone()),
                });
            }
        }
        Ok(Router { routes: Routes::Sources(routes) })
    }

    /// The one processor of a router made from a [`Processor`] (for local files), `None`
    /// when routing by sources.
    pub fn single(&mut self) -> Option<&mut Processor<'p>> {
        match &mut self.routes {
            Routes::Single(p) => Some(p),
            Routes::Sources(_) => None,
        }
    }

    /// The processor for `s3://bucket/key`; [`Error::Unrouted`] when no configured prefix
    /// matches it.
    pub fn processor(&mut self, bucket: &str, key: &str) -> Result<&mut Processor<'p>, Error> {
        match &mut self.routes {
            Routes::Single(p) => Ok(p),
            Routes::Sources(routes) => routes
                .iter_mut()
                .filter(|r| r.bucket == bucket && key.starts_with(&r.prefix))
                .max_by_key(|r| r.prefix.len())
                .map(|r| &mut r.processor)
                .ok_or_else(|| Error::Unrouted { bucket: bucket.into(), key: key.into() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PARSERS;

    const YAML: &str = r#"
sources:
  - id: trail
    label: Org trail
    bucket: logs
    prefixes:
      - prefix: AWSLogs/
        log_types: [AWS.CloudTrail]
      - prefix: AWSLogs/111122223333/vpcflowlogs/
        log_types: [AWS.VPCFlow]
  - id: other
    bucket: other
    prefixes:
      - prefix: ""
        log_types: [AWS.ALB, AWS.S3ServerAccess]
"#;

    fn parse(text: &str) -> Result<SourcesFile, SourceConfigError> {
        SourcesFile::parse(text, false, "sources.yml", PARSERS)
    }

    #[test]
    fn longest_matching_prefix_of_the_objects_bucket_wins() {
        let file = parse(YAML).expect("valid");
        let types = |bucket, key| {
            file.route(bucket, key).map(|(s, r)| (s.id.as_str(), r.log_types.clone()))
        };
        assert_eq!(
            types("logs", "AWSLogs/111122223333/CloudTrail/x.json.gz"),
            Some(("trail", vec!["AWS.CloudTrail".to_owned()]))
        );
        assert_eq!(
            types("logs", "AWSLogs/111122223333/vpcflowlogs/x.log.gz"),
            Some(("trail", vec!["AWS.VPCFlow".to_owned()]))
        );
        assert_eq!(types("other", "anything").map(|t| t.1.len()), Some(2));
        assert_eq!(types("logs", "elsewhere/x.log"), None);
        assert_eq!(types("unknown-bucket", "AWSLogs/x"), None);
    }

    #[test]
    fn router_gives_the_prefix_candidates_and_source_and_refuses_unmatched_keys() {
        let file = parse(YAML).expect("valid");
        let mut router = Router::from_sources(&file, PARSERS).expect("router");
        let p = router.processor("logs", "AWSLogs/111122223333/vpcflowlogs/a").expect("route");
        assert_eq!(p.log_types(), [Arc::from("AWS.VPCFlow")]);
        assert_eq!(&*p.source().label, "Org trail");
        let p = router.processor("other", "x").expect("route");
        assert_eq!(&*p.source().label, "other", "label defaults to the id");
        let err = router.processor("logs", "elsewhere/x.log").expect_err("unrouted");
        assert!(err.to_string().contains("s3://logs/elsewhere/x.log"), "{err}");
    }

    #[test]
    fn toml_sources_parse_like_yaml() {
        let toml = r#"
[[sources]]
id = "trail"
bucket = "logs"
[[sources.prefixes]]
prefix = "AWSLogs/"
log_types = ["AWS.CloudTrail"]
"#;
        let file = SourcesFile::parse(toml, true, "sources.toml", PARSERS).expect("valid");
        assert_eq!(file.sources[0].prefixes[0].log_types, ["AWS.CloudTrail"]);
    }

    #[test]
    fn unknown_log_type_names_the_file_and_the_type() {
        let text = YAML.replace("[AWS.VPCFlow]", "[AWS.VPCFlowz]");
        let err = parse(&text).expect_err("unknown type");
        assert!(matches!(err, SourceConfigError::UnknownLogType { .. }));
        let msg = err.to_string();
        assert!(msg.contains("sources.yml") && msg.contains("AWS.VPCFlowz"), "{msg}");
    }

    #[test]
    fn unknown_fields_duplicates_and_empty_lists_are_errors() {
        let unknown = YAML.replace("label: Org trail", "lable: Org trail");
        assert!(parse(&unknown).expect_err("unknown field").to_string().contains("lable"));
        let dup = YAML.replace("AWSLogs/111122223333/vpcflowlogs/", "AWSLogs/");
        assert!(parse(&dup).expect_err("duplicate").to_string().contains("twice"));
        let empty = YAML.replace("[AWS.ALB, AWS.S3ServerAccess]", "[]");
        assert!(parse(&empty).expect_err("empty").to_string().contains("no log types"));
    }

    #[test]
    fn reading_settings_parse_and_bad_ones_are_named() {
        let text = YAML.replace(
            "  - id: other\n",
            "  - id: other\n    name: Other logs\n    account: \"222222222222\"\n    role_arn: arn:aws:iam::222222222222:role/path/Reader\n    external_id: x\n    kms_key: alias/logs\n    expected_interval_minutes: 15\n",
        );
        let file = parse(&text).expect("valid");
        let other = &file.sources[1];
        assert_eq!(other.name(), "Other logs");
        assert_eq!(other.expected_interval_minutes, Some(15));
        assert_eq!(
            role_account(other.role_arn.as_deref().expect("role")),
            Some(("222222222222", "path/Reader"))
        );
        let bad_arn = text.replace("arn:aws:iam::222222222222:role/", "arn:aws:iam::2222:role/");
        assert!(parse(&bad_arn).expect_err("bad arn").to_string().contains("role_arn"));
        let bad_account = text.replace("account: \"222222222222\"", "account: \"22\"");
        assert!(parse(&bad_account).expect_err("bad account").to_string().contains("12-digit"));
        let lone_id =
            text.replace("    role_arn: arn:aws:iam::222222222222:role/path/Reader\n", "");
        assert!(parse(&lone_id).expect_err("external id").to_string().contains("external_id"));
    }

    #[test]
    fn missing_file_is_a_read_error_naming_it() {
        let err =
            SourcesFile::load(Path::new("/nonexistent/sources.yml"), PARSERS).expect_err("missing");
        assert!(err.to_string().contains("/nonexistent/sources.yml"), "{err}");
    }
}
