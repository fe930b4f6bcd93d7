//! Alert destinations: one module per kind and one line in [`KINDS`]. A destination
//! checks its `[[destinations]]` entry without I/O when built, then sends alerts.
//!
//! Secrets (URLs with tokens, routing keys, signing keys) are resolved when built and
//! never appear in errors or logs: errors name the destination id and the HTTP status.

mod file;
mod http;
mod pagerduty;
mod slack;
mod sns;
mod sqs;
mod teams;
mod webhook;

pub use webhook::signature;

use async_trait::async_trait;
use caracal_core::config::DestinationConfig;
use caracal_core::{Alert, AlertKind};

use crate::error::{Error, Result};

/// What a destination is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A new alert.
    Trigger,
    /// The alert was resolved (PagerDuty resolves its incident; others ignore it).
    Resolve,
}

/// One place alerts go.
#[async_trait]
pub trait Destination: Send + Sync {
    /// The configured id.
    fn id(&self) -> &str;
    /// Sends `alert`. The error text must not contain secrets.
    async fn send(&self, alert: &Alert, action: Action) -> Result<(), String>;
}

/// Builds a destination of one kind from its configuration.
pub type Build = fn(&DestinationConfig, &Shared) -> Result<Box<dyn Destination>>;

/// Every destination kind, by the name `kind = "..."` uses.
pub static KINDS: &[(&str, Build)] = &[
    ("file", file::build),
    ("pagerduty", pagerduty::build),
    ("slack", slack::build),
    ("sns", sns::build),
    ("sqs", sqs::build),
    ("teams", teams::build),
    ("webhook", webhook::build),
];

/// What destinations share: one HTTP client (connection pool, timeouts), and AWS
/// clients for the SNS and SQS kinds.
#[derive(Debug, Clone)]
pub struct Shared {
    http: reqwest::Client,
    aws: Option<caracal_aws::Clients>,
}

/// The AWS clients, for a destination kind that needs them.
fn aws_clients<'a>(
    config: &DestinationConfig,
    shared: &'a Shared,
) -> Result<&'a caracal_aws::Clients> {
    shared.aws.as_ref().ok_or_else(|| Error::Destination {
        id: config.id.clone(),
        reason: format!("{} needs AWS credentials and a region", config.kind),
    })
}

/// Whether any of `configs` needs AWS clients (SNS, SQS).
pub fn need_aws(configs: &[DestinationConfig]) -> bool {
    configs.iter().any(|c| matches!(c.kind.as_str(), "sns" | "sqs"))
}

impl Shared {
    /// An HTTP client with a 10 s timeout.
    pub fn new(aws: Option<caracal_aws::Clients>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .user_agent(concat!("caracal/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Invalid(format!("building the HTTP client: {e}")))?;
        Ok(Self { http, aws })
    }
}

/// The configured destinations and the routing rules between them.
pub struct Router {
    entries: Vec<(DestinationConfig, Box<dyn Destination>)>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.entries.iter().map(|(c, _)| c.id.as_str()).collect();
        f.debug_struct("Router").field("destinations", &ids).finish()
    }
}

impl Router {
    /// Builds every configured destination; an unknown kind or a missing key is an
    /// error naming the destination. `aws` serves the SNS and SQS kinds (see
    /// [`need_aws`]).
    pub fn new(configs: &[DestinationConfig], aws: Option<caracal_aws::Clients>) -> Result<Self> {
        let shared = Shared::new(aws)?;
        let mut entries = Vec::new();
        for config in configs {
            let Some((_, build)) = KINDS.iter().find(|(kind, _)| *kind == config.kind) else {
                let kinds: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
                return Err(Error::Destination {
                    id: config.id.clone(),
                    reason: format!("unknown kind {:?} (one of {})", config.kind, kinds.join(", ")),
                });
            };
            entries.push((config.clone(), build(config, &shared)?));
        }
        Ok(Self { entries })
    }

    /// No destinations.
    pub fn empty() -> Self {
        Self { entries: Vec::new() }
    }

    /// The destination ids a new alert goes to: the rule's `destinations()` when it
    /// returned a list (empty: none), else its `OutputIds`, else every destination
    /// whose filters (minimum severity, log types, rules) take it and that is not
    /// `explicit_only`. Rule errors go to the default destinations.
    pub fn route(
        &self,
        alert: &Alert,
        output_ids: &[String],
        dynamic: Option<&[String]>,
    ) -> Vec<String> {
        if alert.kind == AlertKind::Signal {
            return Vec::new();
        }
        let named = dynamic.or((!output_ids.is_empty()).then_some(output_ids));
        if let Some(named) = named {
            return self
                .entries
                .iter()
                .filter(|(c, _)| named.iter().any(|n| n == &c.id))
                .map(|(c, _)| c.id.clone())
                .collect();
        }
        self.entries
            .iter()
            .filter(|(c, _)| !c.explicit_only && takes(c, alert))
            .map(|(c, _)| c.id.clone())
            .collect()
    }

    /// The destination with this id.
    pub fn get(&self, id: &str) -> Option<&dyn Destination> {
        self.entries.iter().find(|(c, _)| c.id == id).map(|(_, d)| d.as_ref())
    }
}

fn takes(config: &DestinationConfig, alert: &Alert) -> bool {
    config.min_severity.is_none_or(|min| alert.severity >= min)
        && (config.log_types.is_empty()
            || alert.log_types.iter().any(|t| config.log_types.contains(t)))
        && (config.rules.is_empty() || config.rules.contains(&alert.rule_id))
}

/// Resolves a required secret key of a destination's configuration.
pub(crate) fn required(
    config: &DestinationConfig,
    key: &str,
    value: Option<&caracal_core::config::Secret>,
) -> Result<String> {
    let secret = value.ok_or_else(|| Error::Destination {
        id: config.id.clone(),
        reason: format!("{} needs `{key}`", config.kind),
    })?;
    secret.resolve().map_err(|reason| Error::Destination {
        id: config.id.clone(),
        reason: format!("{key}: {reason}"),
    })
}

/// The JSON document most destinations send: the alert without its delivery
/// bookkeeping, and what happened to it (`trigger` or `resolve`).
pub(crate) fn alert_document(alert: &Alert, action: Action) -> serde_json::Value {
    serde_json::json!({
        "action": match action {
            Action::Trigger => "trigger",
            Action::Resolve => "resolve",
        },
        "id": alert.id,
        "kind": alert.kind.as_str(),
        "rule_id": alert.rule_id,
        "title": alert.title,
        "severity": alert.severity.as_str(),
        "status": alert.status.as_str(),
        "dedup": alert.dedup,
        "log_types": alert.log_types,
        "first_seen": alert.first_seen,
        "last_seen": alert.last_seen,
        "event_count": alert.event_count,
        "description": alert.description,
        "reference": alert.reference,
        "runbook": alert.runbook,
        "context": alert.context,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use caracal_core::Severity;

    fn config(id: &str, kind: &str) -> DestinationConfig {
        DestinationConfig {
            path: Some("/tmp/caracal-never-written.jsonl".into()),
            ..DestinationConfig::new(id, kind)
        }
    }

    #[test]
    fn kinds_are_sorted_and_unknown_kinds_name_the_choices() {
        assert!(KINDS.windows(2).all(|w| w[0].0 < w[1].0));
        let err = Router::new(&[config("x", "carrier-pigeon")], None).unwrap_err().to_string();
        assert!(err.contains("destination x") && err.contains("webhook"), "{err}");
    }

    #[test]
    fn routing_follows_dynamic_then_output_ids_then_filters() {
        let mut high = config("high", "file");
        high.min_severity = Some(Severity::High);
        let mut only = config("only", "file");
        only.explicit_only = true;
        let router = Router::new(&[config("all", "file"), high, only], None).unwrap();
        let low = Alert { severity: Severity::Low, ..Alert::default() };
        assert_eq!(router.route(&low, &[], None), vec!["all"]);
        let crit = Alert { severity: Severity::Critical, ..Alert::default() };
        assert_eq!(router.route(&crit, &[], None), vec!["all", "high"]);
        assert_eq!(router.route(&crit, &["only".into()], None), vec!["only"]);
        assert_eq!(router.route(&crit, &["only".into()], Some(&[])), Vec::<String>::new());
        assert_eq!(router.route(&crit, &[], Some(&["high".into()])), vec!["high"]);
        let signal = Alert { kind: AlertKind::Signal, ..Alert::default() };
        assert!(router.route(&signal, &[], None).is_empty());
    }
}
