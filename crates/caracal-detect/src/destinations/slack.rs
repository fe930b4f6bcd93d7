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
use serde_json::json;

use super::http::ChatHook;
use super::{Action, Destination, Shared};
use crate::error::Result;

struct Slack(ChatHook);

pub(super) fn build(config: &DestinationConfig, shared: &Shared) -> Result<Box<dyn Destination>> {
    Ok(Box::new(Slack(ChatHook::new(config, shared)?)))
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
        &self.0.id
    }

    async fn send(&self, alert: &Alert, action: Action) -> Result<(), String> {
        if action == Action::Resolve {
            return Ok(());
        }
        self.0.post(&message(alert, self.0.alert_url.as_deref())).await
    }
}
