//! The SQS event a queue-fed function receives, and its partial batch answer.

use serde::{Deserialize, Serialize};

/// A batch of SQS messages (`{"Records": [...]}`).
#[derive(Debug, Clone, Deserialize)]
pub struct SqsEvent {
    /// The messages.
    #[serde(rename = "Records")]
    pub records: Vec<SqsRecord>,
}

/// One SQS message as Lambda hands it over; other fields are ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsRecord {
    /// The message id, named in `batchItemFailures`.
    pub message_id: String,
    /// The receipt handle.
    #[serde(default)]
    pub receipt_handle: String,
    /// The body text.
    pub body: String,
}

/// The answer of a function with `ReportBatchItemFailures`: only the messages listed
/// here go back to the queue; the others are deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    /// The failed messages.
    pub batch_item_failures: Vec<BatchItemFailure>,
}

/// One failed message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    /// Its message id.
    pub item_identifier: String,
}

impl BatchResponse {
    /// Marks `message_id` failed.
    pub fn fail(&mut self, message_id: impl Into<String>) {
        self.batch_item_failures.push(BatchItemFailure { item_identifier: message_id.into() });
    }

    /// The failed message ids, in order.
    pub fn failed_ids(&self) -> Vec<&str> {
        self.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect()
    }
}
