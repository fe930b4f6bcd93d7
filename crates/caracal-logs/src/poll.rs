//! S3 objects and S3 event notifications on a queue, behind two small traits so nothing
//! here depends on the AWS SDK ([`crate::s3`] implements them with it).
//!
//! A message is deleted only after every object it names was read to its end and the sink
//! flushed; a message naming a missing object, or one that cannot be read as a
//! notification, stays on the queue (it reappears after the visibility timeout and goes
//! to the dead-letter queue after the queue's max receives). With a sources config, an
//! object whose key matches no configured prefix is handled the same way: its message is
//! kept and listed in [`PollOutcome::failed`] (see [`crate::sources`]).
//!
//! While a batch is processed, a heartbeat task asks the queue every third of the
//! visibility timeout to hide its messages for another full timeout, so a long object is
//! not handed to a second consumer halfway through.

use std::io::{self, Read};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::error::Error;
use crate::error::RejectCode;
use crate::events::RecordsRejected;
use crate::process::{ObjectInfo, Report};
use crate::sink::EventSink;
use crate::sources::Router;

/// An object's body as a stream of chunks, read as it arrives.
#[derive(Debug)]
pub struct Body {
    /// When the object was written.
    pub last_modified: Option<DateTime<Utc>>,
    /// The chunks; an `Err` ends the stream (a dropped connection).
    pub chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
}

/// Reads a [`Body`] from a blocking thread (inside `block_in_place`).
struct BodyReader {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.current.len() {
            match self.chunks.blocking_recv() {
                None => return Ok(0),
                Some(chunk) => {
                    self.current = chunk?;
                    self.pos = 0;
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Reads objects from a bucket.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Keys under `prefix`, in listing order.
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, Error>;
    /// Opens an object for streaming; [`Error::MissingObject`] when it does not exist.
    async fn open(&self, bucket: &str, key: &str) -> Result<Body, Error>;
}

/// One received queue message.
#[derive(Debug, Clone)]
pub struct Message {
    /// The message id.
    pub id: String,
    /// The handle that deletes it.
    pub receipt: String,
    /// The body text.
    pub body: String,
}

/// A queue of S3 notifications.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Receives up to `max` messages, hiding them for `visibility_timeout` seconds and
    /// waiting up to `wait_seconds` for the first.
    async fn receive(
        &self,
        max: i32,
        visibility_timeout: u32,
        wait_seconds: u32,
    ) -> Result<Vec<Message>, Error>;
    /// Deletes a message.
    async fn delete(&self, receipt: &str) -> Result<(), Error>;
    /// Hides a received message for another `seconds`, counted from now.
    async fn extend_visibility(&self, receipt: &str, seconds: u32) -> Result<(), Error>;
}

/// Keeps a batch's messages hidden while it is processed; stops when dropped.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Heartbeat {
    /// Every third of `timeout` seconds, hides `receipts` for another `timeout` seconds.
    /// `None` when there is nothing to keep hidden.
    fn start<Q: Queue + Clone + 'static>(
        queue: &Q,
        receipts: Vec<String>,
        timeout: u32,
    ) -> Option<Self> {
        if timeout == 0 || receipts.is_empty() {
            return None;
        }
        let queue = queue.clone();
        let period =
            Duration::from_millis(u64::from(timeout) * 1000 / 3).max(Duration::from_millis(200));
        Some(Heartbeat(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The first tick is immediate; the messages were just received.
            ticks.tick().await;
            loop {
                ticks.tick().await;
                for receipt in &receipts {
                    if let Err(err) = queue.extend_visibility(receipt, timeout).await {
                        warn!(error = %err, "Could not extend a message's visibility.");
                    }
                }
            }
        })))
    }
}

/// An object named by a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// The bucket.
    pub bucket: String,
    /// The key, URL-decoded.
    pub key: String,
}

/// Reads the objects an S3 event notification names: plain (`{"Records":[{"s3":...}]}`),
/// wrapped in an SNS envelope (`{"Type":"Notification","Message":"..."}`), or the
/// `s3:TestEvent` S3 sends when notifications are set up (no objects).
pub fn parse_notification(body: &str) -> Result<Vec<ObjectRef>, String> {
    let value: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    if value.get("Type").and_then(Value::as_str) == Some("Notification") {
        let inner =
            value.get("Message").and_then(Value::as_str).ok_or("SNS envelope without Message")?;
        return parse_notification(inner);
    }
    if value.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Vec::new());
    }
    let records =
        value.get("Records").and_then(Value::as_array).ok_or("no Records in S3 notification")?;
    records
        .iter()
        .filter(|r| {
            r.get("eventName")
                .and_then(Value::as_str)
                .is_none_or(|n| n.starts_with("ObjectCreated"))
        })
        .map(|r| {
            let s3 = r.get("s3").ok_or("record without s3")?;
            let bucket = s3
                .pointer("/bucket/name")
                .and_then(Value::as_str)
                .ok_or("record without bucket name")?;
            let key = s3
                .pointer("/object/key")
                .and_then(Value::as_str)
                .ok_or("record without object key")?;
            Ok(ObjectRef { bucket: bucket.to_owned(), key: url_decode(key) })
        })
        .collect()
}

/// S3 notification keys are form-encoded: `+` is a space, `%XX` a byte.
fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Streams one object through the processor. Must run on a multi-threaded runtime (the
/// parsing runs in `block_in_place`).
pub async fn process_object(
    router: &mut Router<'_>,
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
    sink: &mut dyn EventSink,
) -> Result<Report, Error> {
    let processor = router.processor(bucket, key)?;
    let body = store.open(bucket, key).await?;
    let object = ObjectInfo {
        name: format!("s3://{bucket}/{key}"),
        reference_time: body.last_modified.unwrap_or_else(Utc::now),
    };
    let reader = BodyReader { chunks: body.chunks, current: Vec::new(), pos: 0 };
    tokio::task::block_in_place(|| processor.process(&object, reader, sink))
}

/// Processes every object under `s3://bucket/prefix`. An object no configured source
/// prefix matches counts as one record error ([`RejectCode::Unrouted`]).
pub async fn process_prefix(
    router: &mut Router<'_>,
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: &str,
    sink: &mut dyn EventSink,
) -> Result<Report, Error> {
    let mut report = Report::default();
    for key in store.list(bucket, prefix).await? {
        match process_object(router, store, bucket, &key, sink).await {
            Err(err @ Error::Unrouted { .. }) => {
                let object = format!("s3://{bucket}/{key}");
                caracal_telemetry::emit(RecordsRejected {
                    object: &object,
                    code: RejectCode::Unrouted,
                    count: 1,
                });
                report.merge(Report::object_error(&object, RejectCode::Unrouted, err.to_string()));
            }
            r => report.merge(r?),
        }
    }
    Ok(report)
}

/// How to poll.
#[derive(Debug, Clone)]
pub struct PollOptions {
    /// Messages per receive (1-10).
    pub max_messages: i32,
    /// Seconds a received message stays hidden; renewed every third of it while the
    /// message's objects are processed, so a short timeout only delays a retry after a
    /// crash.
    pub visibility_timeout: u32,
    /// Long-poll wait per receive, seconds.
    pub wait_seconds: u32,
    /// Return when a receive comes back empty instead of polling forever.
    pub until_empty: bool,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions {
            max_messages: 10,
            visibility_timeout: 300,
            wait_seconds: 20,
            until_empty: false,
        }
    }
}

/// What polling did.
#[derive(Debug, Default)]
pub struct PollOutcome {
    /// The records of every object processed.
    pub report: Report,
    /// Messages deleted after full processing.
    pub deleted: u64,
    /// Messages left on the queue, with why.
    pub failed: Vec<String>,
}

/// Receives notifications and processes the objects they name; see the module docs for
/// when a message is deleted and how messages stay hidden meanwhile. Returns on a queue
/// error, or when empty with `until_empty`. Must run on a multi-threaded runtime.
pub async fn poll<Q: Queue + Clone + 'static>(
    router: &mut Router<'_>,
    store: &dyn ObjectStore,
    queue: &Q,
    options: &PollOptions,
    sink: &mut dyn EventSink,
) -> Result<PollOutcome, Error> {
    let mut outcome = PollOutcome::default();
    loop {
        let wait =
            if options.until_empty { options.wait_seconds.min(1) } else { options.wait_seconds };
        let messages =
            queue.receive(options.max_messages, options.visibility_timeout, wait).await?;
        if messages.is_empty() {
            if options.until_empty {
                return Ok(outcome);
            }
            continue;
        }
        let receipts = messages.iter().map(|m| m.receipt.clone()).collect();
        let heartbeat = Heartbeat::start(queue, receipts, options.visibility_timeout);
        let mut done = Vec::new();
        for message in messages {
            match process_message(router, store, &message, sink).await {
                Ok(report) => {
                    outcome.report.merge(report);
                    done.push(message);
                }
                Err(err) => {
                    warn!(message = %message.id, error = %err, "Message kept for retry.");
                    outcome.failed.push(format!("message {}: {err}", message.id));
                }
            }
        }
        // Events must be durable before their messages go.
        tokio::task::block_in_place(|| sink.flush())?;
        drop(heartbeat);
        for message in done {
            queue.delete(&message.receipt).await?;
            outcome.deleted += 1;
            info!(message = %message.id, "Message processed and deleted.");
        }
    }
}

async fn process_message(
    router: &mut Router<'_>,
    store: &dyn ObjectStore,
    message: &Message,
    sink: &mut dyn EventSink,
) -> Result<Report, Error> {
    let objects = parse_notification(&message.body).map_err(|reason| Error::Source {
        context: format!("reading message {}", message.id),
        reason,
    })?;
    let mut report = Report::default();
    for object in objects {
        report.merge(process_object(router, store, &object.bucket, &object.key, sink).await?);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"logs"},"object":{"key":"AWSLogs/a+b%3Dc.json.gz","size":10}}}]}"#;

    #[test]
    fn plain_and_sns_wrapped_notifications_name_their_objects() {
        let want = vec![ObjectRef { bucket: "logs".into(), key: "AWSLogs/a b=c.json.gz".into() }];
        assert_eq!(parse_notification(PLAIN), Ok(want.clone()));
        let sns = serde_json::json!({"Type": "Notification", "Message": PLAIN}).to_string();
        assert_eq!(parse_notification(&sns), Ok(want));
    }

    #[test]
    fn test_events_name_nothing_and_junk_is_an_error() {
        assert_eq!(
            parse_notification(r#"{"Service":"Amazon S3","Event":"s3:TestEvent"}"#),
            Ok(vec![])
        );
        assert!(parse_notification("not json").is_err());
        assert!(parse_notification("{}").is_err());
    }
}
