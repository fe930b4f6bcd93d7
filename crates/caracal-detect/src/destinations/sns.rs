//! `sns`: publishes the alert as JSON to an SNS topic (fan-out to email, chat, other
//! accounts). The subject carries severity and title; `dedup` becomes the message
//! deduplication id on FIFO topics.
//!
//! ```toml
//! [[destinations]]
//! id = "alerts-topic"
//! kind = "sns"
//! topic_arn = "arn:aws:sns:us-east-1:123456789012:caracal-alerts"
//! ```

use async_trait::async_trait;
use caracal_core::Alert;
use caracal_core::config::DestinationConfig;

use super::{Action, Destination, Shared, alert_document, aws_clients};
use crate::error::{Error, Result};

struct Sns {
    id: String,
    topic_arn: String,
    client: aws_sdk_sns::Client,
}

pub(super) fn build(config: &DestinationConfig, shared: &Shared) -> Result<Box<dyn Destination>> {
    let topic_arn = config.topic_arn.clone().ok_or_else(|| Error::Destination {
        id: config.id.clone(),
        reason: "sns needs `topic_arn`".into(),
    })?;
    let client = aws_clients(config, shared)?.sns();
    Ok(Box::new(Sns { id: config.id.clone(), topic_arn, client }))
}

#[async_trait]
impl Destination for Sns {
    fn id(&self) -> &str {
        &self.id
    }

    async fn send(&self, alert: &Alert, action: Action) -> Result<(), String> {
        let doc = alert_document(alert, action);
        let subject: String = format!("[{}] {}", alert.severity, alert.title)
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        let mut publish = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message(doc.to_string());
        if self.topic_arn.ends_with(".fifo") {
            publish = publish.message_group_id(&alert.rule_id).message_deduplication_id(&alert.id);
        }
        publish.send().await.map(|_| ()).map_err(|e| caracal_aws_error(&e))
    }
}

/// The SDK error's code and message, never the request.
pub(super) fn caracal_aws_error<E: std::error::Error + 'static>(err: &E) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
