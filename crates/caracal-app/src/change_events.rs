//! CloudTrail change events from EventBridge: an SQS queue that an EventBridge rule
//! fills with "AWS API Call via CloudTrail" events (directly, or through an SNS topic).
//! Each event's `detail` is a CloudTrail record; its write calls go to the
//! [`RescanQueue`] like those found in processed CloudTrail logs.
//!
//! A message is deleted only after the rescans it asked for ran (the batch waits out the
//! queue's delay, then runs what is due); a body that is not such an event is logged and
//! left on the queue, so the queue's redrive policy moves it to its dead-letter queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use caracal_logs::poll::Queue;
use serde_json::{Map, Value};
use tracing::{debug, warn};

use crate::changes::{self, RescanQueue};
use crate::context::Context;
use crate::events::{MessagesHandled, PollFailed};
use crate::posture::PolicySource;

/// The EventBridge detail type of CloudTrail API calls.
pub const DETAIL_TYPE: &str = "AWS API Call via CloudTrail";

/// Counts of the consumer.
#[derive(Debug, Default)]
pub struct ConsumerStats {
    /// Messages read.
    pub messages: AtomicU64,
    /// CloudTrail API-call events among them.
    pub events: AtomicU64,
    /// Messages deleted after their work ran.
    pub deleted: AtomicU64,
    /// Bodies that were not events (left for the dead-letter queue).
    pub malformed: AtomicU64,
    /// Receive or delete calls that failed.
    pub errors: AtomicU64,
}

/// What a message body holds.
#[derive(Debug, PartialEq)]
pub enum Body {
    /// A CloudTrail record of an API call.
    Record(Map<String, Value>),
    /// Another EventBridge event (nothing to do; deleted).
    Other,
}

/// Reads one message body: an EventBridge event, possibly wrapped in an SNS
/// notification. Err: not an event at all, with the reason.
pub fn parse(body: &str) -> Result<Body, String> {
    let value: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    let event = match value.get("Type").and_then(Value::as_str) {
        Some("Notification") => {
            let inner = value
                .get("Message")
                .and_then(Value::as_str)
                .ok_or("SNS notification without Message")?;
            serde_json::from_str(inner).map_err(|e| format!("SNS Message is not JSON: {e}"))?
        }
        _ => value,
    };
    let Some(kind) = event.get("detail-type").and_then(Value::as_str) else {
        return Err("no detail-type: not an EventBridge event".into());
    };
    if kind != DETAIL_TYPE {
        return Ok(Body::Other);
    }
    match event.get("detail") {
        Some(Value::Object(record)) => Ok(Body::Record(record.clone())),
        _ => Err(format!("{DETAIL_TYPE} event without a detail object")),
    }
}

/// Rescans what one CloudTrail record changed, now, and re-evaluates `policies` on the
/// fresh snapshots: what the change-events function does per message. The counts say
/// whether any rescan failed (the message should then be retried).
pub async fn rescan_record(
    ctx: &Arc<Context>,
    record: &Map<String, Value>,
    policies: Option<&PolicySource>,
) -> changes::RescanStats {
    let queue = RescanQueue::new(Duration::ZERO);
    queue.observe_record(record);
    changes::run_due(ctx, &queue, policies).await;
    queue.stats()
}

/// Polls `queue` until `shutdown` resolves (finishing the batch in hand): records go to
/// `rescans`, the batch waits `delay`, due rescans run (re-evaluating `policies`), then
/// the batch's messages are deleted.
pub async fn consume(
    ctx: Arc<Context>,
    queue: Arc<dyn Queue>,
    rescans: Arc<RescanQueue>,
    policies: Option<PolicySource>,
    delay: Duration,
    stats: Arc<ConsumerStats>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    // Long enough that a message is not handed out again while its rescan runs.
    let visibility = u32::try_from(delay.as_secs()).unwrap_or(u32::MAX).saturating_add(120);
    loop {
        let batch = tokio::select! {
            batch = queue.receive(10, visibility, 5) => batch,
            () = &mut shutdown => return,
        };
        let messages = match batch {
            Ok(messages) => messages,
            Err(err) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                let error = err.to_string();
                caracal_telemetry::emit(PollFailed { queue: "change_events", error: &error });
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        let mut done = Vec::new();
        let received = messages.len() as u64;
        for message in messages {
            stats.messages.fetch_add(1, Ordering::Relaxed);
            match parse(&message.body) {
                Ok(Body::Record(record)) => {
                    stats.events.fetch_add(1, Ordering::Relaxed);
                    rescans.observe_record(&record);
                    done.push(message.receipt);
                }
                Ok(Body::Other) => done.push(message.receipt),
                Err(reason) => {
                    stats.malformed.fetch_add(1, Ordering::Relaxed);
                    warn!(message = %message.id, reason, "Not a CloudTrail change event; left for the dead-letter queue.");
                }
            }
        }
        if done.is_empty() {
            caracal_telemetry::emit(MessagesHandled {
                queue: "change_events",
                done: 0,
                kept: received,
            });
            continue;
        }
        tokio::time::sleep(delay).await;
        changes::run_due(&ctx, &rescans, policies.as_ref()).await;
        let mut deleted = 0;
        for receipt in done {
            match queue.delete(&receipt).await {
                Ok(()) => {
                    stats.deleted.fetch_add(1, Ordering::Relaxed);
                    deleted += 1;
                }
                Err(err) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    debug!(error = %err, "Deleting a change event failed; it will be read again.");
                }
            }
        }
        caracal_telemetry::emit(MessagesHandled {
            queue: "change_events",
            done: deleted,
            kept: received - deleted,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_read_plain_or_through_sns_and_others_are_told_apart() {
        let event = json!({"detail-type": DETAIL_TYPE, "source": "aws.ec2",
            "detail": {"eventName": "AuthorizeSecurityGroupIngress"}});
        let plain = parse(&event.to_string()).unwrap();
        assert!(
            matches!(&plain, Body::Record(r) if r["eventName"] == "AuthorizeSecurityGroupIngress")
        );
        let sns = json!({"Type": "Notification", "Message": event.to_string()});
        assert_eq!(parse(&sns.to_string()).unwrap(), plain);
        let other = json!({"detail-type": "EC2 Instance State-change Notification", "detail": {}});
        assert_eq!(parse(&other.to_string()).unwrap(), Body::Other);
        assert!(parse("{not json").is_err());
        assert!(parse(r#"{"Records": []}"#).is_err());
    }
}
