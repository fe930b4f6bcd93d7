//! `[rules]` and `[[destinations]]` of `caracal.toml`: which rule packs run on logs, and
//! where their alerts go. Re-exported from [`crate::config`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::compliance::Severity;

/// Rule packs (`[rules]`), run on every processed log event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesConfig {
    /// Folders to load.
    pub paths: Vec<PathBuf>,
    /// A virtualenv whose site-packages third-party imports of rules come from.
    pub venv: Option<PathBuf>,
    /// Only the rules these packs name (PackIDs); empty: every rule.
    pub packs: Vec<String>,
    /// Events per rule-engine batch (each event is converted to Python once per batch).
    pub batch_size: usize,
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            paths: vec![PathBuf::from("rules")],
            venv: None,
            packs: Vec::new(),
            batch_size: 1000,
        }
    }
}

/// A reference to a secret: `env:NAME` (an environment variable), `file:PATH` (a file's
/// first line), or the value itself. Never printed: `Debug` and `Display` show only
/// the reference kind.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// A secret from its reference text.
    pub fn new(reference: impl Into<String>) -> Self {
        Self(reference.into())
    }

    /// Reads the secret's value. The error names the variable or file, never the value.
    pub fn resolve(&self) -> Result<String, String> {
        if let Some(name) = self.0.strip_prefix("env:") {
            return std::env::var(name)
                .map_err(|_| format!("environment variable {name} is not set"));
        }
        if let Some(path) = self.0.strip_prefix("file:") {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("secret file {path}: {e}"))?;
            return Ok(text.lines().next().unwrap_or_default().trim().to_owned());
        }
        Ok(self.0.clone())
    }

    fn kind(&self) -> &'static str {
        if self.0.starts_with("env:") {
            "env"
        } else if self.0.starts_with("file:") {
            "file"
        } else {
            "inline"
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.split_once(':') {
            Some((kind @ ("env" | "file"), name)) => write!(f, "Secret({kind}:{name})"),
            _ => write!(f, "Secret({}: ***)", self.kind()),
        }
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One alert destination (`[[destinations]]`). Which keys apply depends on `kind`; the
/// destination's module checks them when caracal starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationConfig {
    /// The id rules name in `OutputIds` and `destinations()`.
    pub id: String,
    /// `webhook`, `slack`, `pagerduty`, `teams`, `sns`, `sqs` or `file`.
    pub kind: String,
    /// Only alerts of at least this severity (default: every alert).
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Only alerts of these log types (default: any).
    #[serde(default)]
    pub log_types: Vec<String>,
    /// Only alerts of these rule ids (default: any).
    #[serde(default)]
    pub rules: Vec<String>,
    /// Only when a rule names it (`OutputIds`, `destinations()`), never by default.
    #[serde(default)]
    pub explicit_only: bool,
    /// The endpoint (webhook, Slack, Teams; PagerDuty's events URL): usually a secret.
    #[serde(default)]
    pub url: Option<Secret>,
    /// The HMAC-SHA256 signing key of a webhook.
    #[serde(default)]
    pub secret: Option<Secret>,
    /// PagerDuty's integration (routing) key.
    #[serde(default)]
    pub routing_key: Option<Secret>,
    /// Extra HTTP headers (webhook).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The file a `file` destination appends JSON lines to.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// A link to the alert in a console, `{id}` replaced by the alert id (Slack, Teams).
    #[serde(default)]
    pub alert_url: Option<String>,
    /// The SNS topic of an `sns` destination.
    #[serde(default)]
    pub topic_arn: Option<String>,
    /// The SQS queue URL of an `sqs` destination.
    #[serde(default)]
    pub queue_url: Option<String>,
}

impl DestinationConfig {
    /// A destination of `kind` with every optional key unset.
    pub fn new(id: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            kind: kind.into(),
            min_severity: None,
            log_types: Vec::new(),
            rules: Vec::new(),
            explicit_only: false,
            url: None,
            secret: None,
            routing_key: None,
            headers: BTreeMap::new(),
            path: None,
            alert_url: None,
            topic_arn: None,
            queue_url: None,
        }
    }
}

/// The `[rules]` and `[[destinations]]` part of the example configuration.
pub const EXAMPLE: &str = r#"
[rules]
# Rule pack folders run on every processed log event (logs process / poll).
paths = ["rules"]
# venv = ".venv-rules"
# Only the rules these packs (PackIDs) name; empty: all.
packs = []
# Events per rule-engine batch.
batch_size = 1000

# One table per alert destination. Secrets are references: "env:NAME" or "file:PATH".
# [[destinations]]
# id = "soc-webhook"
# kind = "webhook"                  # webhook | slack | pagerduty | teams | sns | sqs | file
# url = "env:CARACAL_SOC_WEBHOOK_URL"
# secret = "env:CARACAL_SOC_WEBHOOK_KEY" # signs the body: X-Caracal-Signature: sha256=<hex>
# headers = { "X-Team" = "security" }
# min_severity = "HIGH"
# log_types = ["AWS.CloudTrail"]
# rules = []
# explicit_only = false            # true: only for rules that name it in OutputIds
"#;

/// Checks `[rules]` and `[[destinations]]` without I/O.
pub(crate) fn validate(
    rules: &RulesConfig,
    destinations: &[DestinationConfig],
) -> Result<(), String> {
    if rules.batch_size == 0 {
        return Err("rules.batch_size must be at least 1".into());
    }
    let mut seen = std::collections::HashSet::new();
    for d in destinations {
        if d.id.is_empty() {
            return Err("destinations: id must not be empty".into());
        }
        if !seen.insert(d.id.as_str()) {
            return Err(format!("destinations: id {:?} is used twice", d.id));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_their_value() {
        let inline = Secret::new("https://hooks.example/T000/abc-token");
        assert!(!format!("{inline:?} {inline}").contains("abc-token"));
        let env = Secret::new("env:CARACAL_TEST_NOT_SET_ANYWHERE");
        assert_eq!(format!("{env:?}"), "Secret(env:CARACAL_TEST_NOT_SET_ANYWHERE)");
        let err = env.resolve().unwrap_err();
        assert!(err.contains("CARACAL_TEST_NOT_SET_ANYWHERE"));
    }

    #[test]
    fn the_example_parses_with_a_destination() {
        let text = format!(
            "{}{}\n[[destinations]]\nid = \"w\"\nkind = \"webhook\"\nurl = \"env:X\"\nmin_severity = \"High\"\n",
            crate::config::EXAMPLE,
            EXAMPLE
        );
        let config = crate::Config::from_toml(&text, std::path::Path::new("example.toml")).unwrap();
        assert_eq!(config.rules, RulesConfig::default());
        assert_eq!(config.destinations[0].min_severity, Some(Severity::High));
        let twice = format!("{text}[[destinations]]\nid = \"w\"\nkind = \"file\"\n");
        let err = crate::Config::from_toml(&twice, std::path::Path::new("x.toml")).unwrap_err();
        assert!(err.to_string().contains("used twice"), "{err}");
    }

    #[test]
    fn file_secrets_read_their_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "s3cr3t\nignored\n").unwrap();
        let secret = Secret::new(format!("file:{}", path.display()));
        assert_eq!(secret.resolve().unwrap(), "s3cr3t");
    }
}
