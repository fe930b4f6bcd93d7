//! `teams`: a Microsoft Teams workflow webhook ("When a Teams webhook request is
//! received"), posting an Adaptive Card with the severity, title, rule and counts.
//!
//! ```toml
//! [[destinations]]
//! id = "soc-teams"
//! kind = "teams"
//! url = "env:TEAMS_WORKFLOW_URL"
//! ```

use async_trait::async_trait;
use caracal_core::Alert;
use caracal_core::config::DestinationConfig;
use serde_json::json;

use super::http::ChatHook;
use super::{Action, Destination, Shared};
use crate::error::Result;

struct Teams(ChatHook);

pub(super) fn build(config: &DestinationConfig, shared: &Shared) -> Result<Box<dyn Destination>> {
    Ok(Box::new(Teams(ChatHook::new(config, shared)?)))
}

fn card(alert: &Alert, alert_url: Option<&str>) -> serde_json::Value {
    let mut body = vec![
        json!({"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": true,
               "text": format!("[{}] {}", alert.severity, alert.title)}),
        json!({"type": "FactSet", "facts": [
            {"title": "Rule", "value": alert.rule_id},
            {"title": "Events", "value": alert.event_count.to_string()},
            {"title": "Log types", "value": alert.log_types.join(", ")},
            {"title": "First seen", "value": alert.first_seen.to_rfc3339()},
        ]}),
    ];
    if let Some(description) = &alert.description {
        body.push(json!({"type": "TextBlock", "wrap": true, "text": description}));
    }
    let mut content = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard", "version": "1.4", "body": body,
    });
    if let Some(url) = alert_url {
        content["actions"] = json!([{"type": "Action.OpenUrl", "title": "Open alert",
                                      "url": url.replace("{id}", &alert.id)}]);
    }
    json!({"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "content": content}]})
}

#[async_trait]
impl Destination for Teams {
    fn id(&self) -> &str {
        &self.0.id
    }

    async fn send(&self, alert: &Alert, action: Action) -> Result<(), String> {
        if action == Action::Resolve {
            return Ok(());
        }
        self.0.post(&card(alert, self.0.alert_url.as_deref())).await
    }
}
