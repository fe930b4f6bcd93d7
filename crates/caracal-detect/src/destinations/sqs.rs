//! `sqs`: sends the alert as a JSON message to an SQS queue (for a SOAR or a ticketing
//! bridge). On FIFO queues the alert id is the deduplication id.
//!
//! ```toml
//! [[destinations]]
//! id = "soar"
//! kind = "sqs"
//! queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/caracal-alerts"
//! ```

use async_trait::async_trait;
use caracal_core::Alert;
use caracal_core::config::DestinationConfig;

use super::sns::caracal_aws_error;
use super::{Action, Destination, Shared, alert_document, aws_clients};
use crate::error::{Error, Result};

struct Sqs {
    id: String,
    queue_url: String,
    client: aws_sdk_sqs::Client,
}

pub(super) fn build(config: &DestinationConfig, shared: &Shared) -> Result<Box<dyn Destination>> {
    let queue_url = config.queue_url.clone().ok_or_else(|| Error::Destination {
        id: config.id.clone(),
        reason: "sqs needs `queue_url`".into(),
    })?;
    let client = aws_clients(config, shared)?.sqs();
    Ok(Box::new(Sqs { id: config.id.clone(), queue_url, client }))
}

#[async_trait]
impl Destination for Sqs {
    fn id(&self) -> &str {
        &self.id
    }

    async fn send(&self, alert: &Alert, action: Action) -> Result<(), String> {
        let doc = alert_document(alert, action);
        let mut send =
            self.client.send_message().queue_url(&self.queue_url).message_body(doc.to_string());
        if self.queue_url.ends_with(".fifo") {
            let dedup = format!(
                "{}-{}",
                alert.id,
                if action == Action::Resolve { "resolve" } else { "trigger" }
            );
            send = send.message_group_id(&alert.rule_id).message_deduplication_id(dedup);
        }
        send.send().await.map(|_| ()).map_err(|e| caracal_aws_error(&e))
    }
}
