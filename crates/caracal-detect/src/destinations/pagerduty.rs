//! `pagerduty`: PagerDuty Events API v2. A new alert triggers an incident with
//! `dedup_key` = the alert id; resolving the alert resolves it.
//!
//! ```toml
//! [[destinations]]
//! id = "oncall"
//! kind = "pagerduty"
//! routing_key = "env:PAGERDUTY_ROUTING_KEY"
//! # url = "https://events.pagerduty.com/v2/enqueue"   # the default
//! ```

use async_trait::async_trait;
use caracal_core::config::DestinationConfig;
use caracal_core::{Alert, Severity};
use reqwest::header::HeaderMap;
use serde_json::json;

use super::{Action, Destination, Shared, http, required};
use crate::error::Result;

const EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

struct PagerDuty {
    id: String,
    url: String,
    routing_key: String,
    http: reqwest::Client,
}

pub(super) fn build(config: &DestinationConfig, shared: &Shared) -> Result<Box<dyn Destination>> {
    let routing_key = required(config, "routing_key", config.routing_key.as_ref())?;
    let url = match &config.url {
        Some(_) => required(config, "url", config.url.as_ref())?,
        None => EVENTS_URL.to_owned(),
    };
    Ok(Box::new(PagerDuty { id: config.id.clone(), url, routing_key, http: shared.http.clone() }))
}

/// PagerDuty's severities: critical, error, warning, info.
fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "info",
    }
}

pub(crate) fn event(alert: &Alert, routing_key: &str, action: Action) -> serde_json::Value {
    match action {
        Action::Resolve => json!({
            "routing_key": routing_key, "event_action": "resolve", "dedup_key": alert.id,
        }),
        Action::Trigger => json!({
            "routing_key": routing_key,
            "event_action": "trigger",
            "dedup_key": alert.id,
            "payload": {
                "summary": alert.title.chars().take(1024).collect::<String>(),
                "source": "caracal",
                "severity": severity(alert.severity),
                "timestamp": alert.first_seen.to_rfc3339(),
                "component": alert.log_types.join(","),
                "class": alert.rule_id,
                "custom_details": {
                    "rule_id": alert.rule_id,
                    "event_count": alert.event_count,
                    "context": alert.context,
                    "runbook": alert.runbook,
                },
            },
        }),
    }
}

#[async_trait]
impl Destination for PagerDuty {
    fn id(&self) -> &str {
        &self.id
    }

    async fn send(&self, alert: &Alert, action: Action) -> Result<(), String> {
        let body = serde_json::to_vec(&event(alert, &self.routing_key, action))
            .map_err(|e| e.to_string())?;
        http::post_json(&self.http, &self.url, HeaderMap::new(), body).await
    }
}
