//! `slack`: an incoming webhook message with blocks: severity and title, rule, counts,
//! the alert context, and a link when `alert_url` is set.
//!
//! ```toml
//! [[destinations]]
//! id = "soc-slack"
//! kind = "slack"
//! url = "env:SLACK_WEBHOOK_URL"
//! alert_url = "https://caracal.example/alerts/{id}"
//! ```

use async_trait::async_trait;
use caracal_core::Alert;
use caracal_core::config::DestinationConfig;
use reqwest::header::HeaderMap;
use serde_json::json;

use super::{Action, Destination, Shared, http, required};
use crate::error::Result;

struct Slack {
    id: String,
    url: String,
    alert_url: Option<String>,
    http: reqwest::Client,
}

pub(super) fn build(config: &DestinationConfig, shared: &Shared) -> Result<Box<dyn Destination>> {
    let url = required(config, "url", config.url.as_ref())?;
    Ok(Box::new(Slack {
        id: config.id.clone(),
        url,
        alert_url: config.alert_url.clone(),
        http: shared.http.clone(),
    }))
}

/// The Slack message for an alert.
pub(crate) fn message(alert: &Alert, alert_url: Option<&str>) -> serde_json::Value {
    let heading = format!("[{}] {}", alert.severity, alert.title);
    let mut fields = vec![
        json!({"type": "mrkdwn", "text": format!("*Rule*\n{}", alert.rule_id)}),
        json!({"type": "mrkdwn", "text": format!("*Events*\n{}", alert.event_count)}),
        json!({"type": "mrkdwn", "text": format!("*Log types*\n{}", alert.log_types.join(", "))}),
        json!({"type": "mrkdwn", "text": format!("*First seen*\n{}", alert.first_seen.to_rfc3339())}),
    ];
    if let Some(runbook) = &alert.runbook {
        fields.push(json!({"type": "mrkdwn", "text": format!("*Runbook*\n{runbook}")}));
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&heading, 150)}}),
        json!({"type": "section", "fields": fields}),
    ];
    if !alert.context.is_null() {
        let context = serde_json::to_string_pretty(&alert.context).unwrap_or_default();
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
            "text": format!("```{}```", truncate(&context, 2900))}}));
    }
    if let Some(url) = alert_url {
        let link = url.replace("{id}", &alert.id);
        blocks.push(json!({"type": "actions", "elements": [{"type": "button",
            "text": {"type": "plain_text", "text": "Open alert"}, "url": link}]}));
    }
    json!({ "text": heading, "blocks": blocks })
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[async_trait]
impl Destination for Slack {
    fn id(&self) -> &str {
        &self.id
    }

    async fn send(&self, alert: &Alert, action: Action) -> Result<(), String> {
        if action == Action::Resolve {
            return Ok(());
        }
        let body = serde_json::to_vec(&message(alert, self.alert_url.as_deref()))
            .map_err(|e| e.to_string())?;
        http::post_json(&self.http, &self.url, HeaderMap::new(), body).await
    }
}
