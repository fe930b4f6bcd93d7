//! [`Settings`]: one function's configuration from its environment.
//!
//! | variable | meaning |
//! | --- | --- |
//! | `CARACAL_CONFIG` | the `caracal.toml` in the image (policies, rules, accounts, destinations) |
//! | `CARACAL_STORE`, `CARACAL_DYNAMODB_TABLE_PREFIX`, `CARACAL_REGIONS`, ... | the usual `caracal.toml` overrides ([`Config::apply_env`]) |
//! | `CARACAL_ALERTS_TOPIC_ARN` | the alerts SNS topic: an `sns` destination `alerts-topic` (empty: none) |
//! | `CARACAL_SECRETS` | `NAME=ID,...`: a destination secret `env:NAME` takes the value of that Secrets Manager secret, or of the SSM parameter `ssm:/name` (or its ARN) (empty: none) |
//! | `CARACAL_LAKE` | the lake, `s3://bucket/prefix` (log processor) |
//! | `CARACAL_SCAN_QUEUE_URL` | where scan targets go (scan scheduler) |
//! | `CARACAL_REMEDIATION_QUEUE_URL` | where automatic fixes go (scanner, change events) |
//! | `CARACAL_SOURCES` | a sources file routing log key prefixes to log types, with each source's `role_arn` (log processor; empty: none) |

use std::path::{Path, PathBuf};

use caracal_core::Config;
use caracal_core::config::{DestinationConfig, Secret};

use crate::error::{Error, Result};
use crate::functions::FunctionSpec;
use crate::secrets::SecretRef;

/// The id of the destination made from `CARACAL_ALERTS_TOPIC_ARN`.
pub const ALERTS_TOPIC_DESTINATION: &str = "alerts-topic";

/// What a function reads from its environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `caracal.toml` with the overrides and the alerts topic applied. Destination
    /// secrets named in [`Settings::secrets`] are still `env:NAME` references until
    /// [`Function::from_env`](crate::Function::from_env) resolves them.
    pub config: Config,
    /// The lake, `s3://bucket/prefix`.
    pub lake: Option<String>,
    /// A sources file routing log key prefixes.
    pub sources: Option<PathBuf>,
    /// The scan queue.
    pub scan_queue_url: Option<String>,
    /// The remediator's queue, which automatic fixes are sent to.
    pub remediation_queue_url: Option<String>,
    /// `(NAME, where its value is kept)` pairs of `CARACAL_SECRETS`.
    pub secrets: Vec<(String, SecretRef)>,
}

impl Settings {
    /// Reads the process environment for `spec`.
    pub fn from_env(spec: &FunctionSpec) -> Result<Self> {
        Self::from_lookup(spec, |name| std::env::var(name).ok())
    }

    /// Reads the variables through `get`; fails naming the first required one missing
    /// or malformed.
    pub fn from_lookup(spec: &FunctionSpec, get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let required = spec.required_env();
        for name in &required {
            if get(name).is_none() {
                return Err(Error::Env {
                    name,
                    reason: format!("not set (the {} function needs it)", spec.name),
                });
            }
        }
        let path = get("CARACAL_CONFIG").unwrap_or_default();
        let mut config = Config::load(Path::new(&path)).map_err(|e| Error::Env {
            name: "CARACAL_CONFIG",
            reason: caracal_core::error::chain(&e),
        })?;
        config.apply_env(&get).map_err(|e| Error::Env {
            name: "CARACAL_*",
            reason: caracal_core::error::chain(&e),
        })?;
        let nonempty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        if let Some(arn) = nonempty("CARACAL_ALERTS_TOPIC_ARN")
            && !config.destinations.iter().any(|d| d.id == ALERTS_TOPIC_DESTINATION)
        {
            let mut topic = DestinationConfig::new(ALERTS_TOPIC_DESTINATION, "sns");
            topic.topic_arn = Some(arn);
            config.destinations.push(topic);
        }
        let lake = nonempty("CARACAL_LAKE");
        if let Some(lake) = &lake
            && !lake.starts_with("s3://")
        {
            return Err(Error::Env {
                name: "CARACAL_LAKE",
                reason: format!("{lake:?} is not an s3://bucket/prefix URL"),
            });
        }
        let secrets = parse_secrets(&nonempty("CARACAL_SECRETS").unwrap_or_default())?;
        Ok(Self {
            config,
            lake,
            sources: nonempty("CARACAL_SOURCES").map(PathBuf::from),
            scan_queue_url: nonempty("CARACAL_SCAN_QUEUE_URL"),
            remediation_queue_url: nonempty("CARACAL_REMEDIATION_QUEUE_URL"),
            secrets,
        })
    }

    /// Replaces every destination secret `env:NAME` by `value`. A value that itself looks
    /// like a reference (`env:`, `file:`) is refused: it would be read as one.
    pub fn set_secret(&mut self, name: &str, value: &str) -> Result<()> {
        if value.starts_with("env:") || value.starts_with("file:") {
            return Err(Error::Secret {
                name: name.to_owned(),
                id: String::new(),
                reason: "the value starts with env: or file: and would be read as a reference"
                    .into(),
            });
        }
        let reference = Secret::new(format!("env:{name}"));
        for d in &mut self.config.destinations {
            for field in [&mut d.url, &mut d.secret, &mut d.routing_key] {
                if field.as_ref() == Some(&reference) {
                    *field = Some(Secret::new(value));
                }
            }
        }
        Ok(())
    }
}

/// `NAME=ID,NAME2=ID2` (ids are names or ARNs, which hold no comma).
fn parse_secrets(text: &str) -> Result<Vec<(String, SecretRef)>> {
    let mut out = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((name, id)) = entry.split_once('=') else {
            return Err(Error::Env {
                name: "CARACAL_SECRETS",
                reason: format!("{entry:?} is not NAME=SECRET_ID"),
            });
        };
        let (name, id) = (name.trim(), id.trim());
        let valid = !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !id.is_empty();
        if !valid {
            return Err(Error::Env {
                name: "CARACAL_SECRETS",
                reason: format!("{entry:?} is not NAME=SECRET_ID"),
            });
        }
        let source = SecretRef::parse(id);
        if source.id().is_empty() {
            return Err(Error::Env {
                name: "CARACAL_SECRETS",
                reason: format!("{entry:?} names no parameter after ssm:"),
            });
        }
        out.push((name.to_owned(), source));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::LOG_PROCESSOR;
    use std::collections::HashMap;

    fn env(dir: &Path, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let path = dir.join("caracal.toml");
        std::fs::write(
            &path,
            "[[destinations]]\nid = \"hook\"\nkind = \"webhook\"\nurl = \"env:HOOK_URL\"\n",
        )
        .unwrap();
        let mut vars: HashMap<String, String> = [
            ("CARACAL_CONFIG", path.to_str().unwrap()),
            ("CARACAL_STORE", "dynamodb"),
            ("CARACAL_DYNAMODB_TABLE_PREFIX", "prod"),
            ("CARACAL_REGIONS", "us-east-1,eu-west-1"),
            ("CARACAL_ALERTS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:alerts"),
            ("CARACAL_SECRETS", "HOOK_URL=caracal/hook"),
            ("CARACAL_LAKE", "s3://lake/events"),
            ("CARACAL_SOURCES", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in extra {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        vars
    }

    #[test]
    fn settings_come_from_the_environment_and_secrets_replace_references() {
        let dir = tempfile::tempdir().unwrap();
        let vars = env(dir.path(), &[]);
        let mut s = Settings::from_lookup(&LOG_PROCESSOR, |k| vars.get(k).cloned()).unwrap();
        assert_eq!(s.config.store.dynamodb.table_prefix, "prod");
        assert_eq!(s.config.aws.regions, ["us-east-1", "eu-west-1"]);
        assert_eq!(s.lake.as_deref(), Some("s3://lake/events"));
        assert_eq!(
            s.secrets,
            [("HOOK_URL".to_owned(), SecretRef::SecretsManager("caracal/hook".to_owned()))]
        );
        let topic = s.config.destinations.iter().find(|d| d.id == ALERTS_TOPIC_DESTINATION);
        assert_eq!(
            topic.and_then(|d| d.topic_arn.as_deref()),
            Some("arn:aws:sns:us-east-1:123456789012:alerts")
        );
        s.set_secret("HOOK_URL", "https://hooks.example/x").unwrap();
        let url = s.config.destinations[0].url.as_ref().unwrap().resolve().unwrap();
        assert_eq!(url, "https://hooks.example/x");
        assert!(s.set_secret("HOOK_URL", "env:OTHER").is_err());
    }

    #[test]
    fn a_missing_or_malformed_variable_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut vars = env(dir.path(), &[]);
        vars.remove("CARACAL_LAKE");
        let err = Settings::from_lookup(&LOG_PROCESSOR, |k| vars.get(k).cloned()).unwrap_err();
        assert!(err.to_string().contains("CARACAL_LAKE"), "{err}");
        for (name, bad) in [
            ("CARACAL_LAKE", "/tmp/lake"),
            ("CARACAL_SECRETS", "NOEQUALS"),
            ("CARACAL_SECRETS", "HOOK=ssm:"),
            ("CARACAL_STORE", "pg"),
        ] {
            let vars = env(dir.path(), &[(name, bad)]);
            let err = Settings::from_lookup(&LOG_PROCESSOR, |k| vars.get(k).cloned()).unwrap_err();
            assert!(!err.retryable());
            assert!(
                err.to_string().contains(if name == "CARACAL_STORE" { "CARACAL_" } else { name }),
                "{err}"
            );
        }
    }
}
