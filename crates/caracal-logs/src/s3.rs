//! The AWS SDK behind [`crate::poll`]'s traits: [`S3Store`] streams objects with
//! GetObject, [`SqsQueue`] receives and deletes notifications. Clients come from
//! `caracal-aws` (`Clients::s3()`, `Clients::sqs()`), the only place SDK config is built.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::error::Error;
use crate::poll::{Body, Message, ObjectStore, Queue};
use caracal_core::error::chain;

/// S3 as an [`ObjectStore`].
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
}

impl S3Store {
    /// A store over this client.
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        S3Store { client }
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, Error> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| Error::Source {
                    context: format!("listing s3://{bucket}/{prefix}"),
                    reason: chain(&e),
                })?;
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_owned()),
                _ => return Ok(keys),
            }
        }
    }

    async fn open(&self, bucket: &str, key: &str) -> Result<Body, Error> {
        let output = match self.client.get_object().bucket(bucket).key(key).send().await {
            Ok(o) => o,
            Err(err) => {
                let missing = err.as_service_error().is_some_and(|e| e.is_no_such_key())
                    || err.raw_response().is_some_and(|r| r.status().as_u16() == 404);
                if missing {
                    return Err(Error::MissingObject { bucket: bucket.into(), key: key.into() });
                }
                return Err(Error::Source {
                    context: format!("reading s3://{bucket}/{key}"),
                    reason: chain(&err),
                });
            }
        };
        let last_modified =
            output.last_modified().and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), 0));
        let (tx, rx) = mpsc::channel(16);
        let mut stream = output.body;
        tokio::spawn(async move {
            loop {
                let item = match stream.try_next().await {
                    Ok(Some(bytes)) => Ok(bytes.to_vec()),
                    Ok(None) => return,
                    Err(e) => Err(std::io::Error::other(chain(&e))),
                };
                let stop = item.is_err();
                if tx.send(item).await.is_err() || stop {
                    return;
                }
            }
        });
        Ok(Body { last_modified, chunks: rx })
    }
}

/// An SQS queue as a [`Queue`].
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    /// The queue at `url`.
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        SqsQueue { client, url: url.into() }
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn receive(
        &self,
        max: i32,
        visibility_timeout: u32,
        wait_seconds: u32,
    ) -> Result<Vec<Message>, Error> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, 10))
            .visibility_timeout(i32::try_from(visibility_timeout).unwrap_or(i32::MAX))
            .wait_time_seconds(i32::try_from(wait_seconds.min(20)).unwrap_or(20))
            .send()
            .await
            .map_err(|e| Error::Source {
                context: format!("receiving from {}", self.url),
                reason: chain(&e),
            })?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                Some(Message {
                    id: m.message_id().unwrap_or_default().to_owned(),
                    receipt: m.receipt_handle()?.to_owned(),
                    body: m.body().unwrap_or_default().to_owned(),
                })
            })
            .collect())
    }

    async fn delete(&self, receipt: &str) -> Result<(), Error> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| Error::Source {
                context: format!("deleting a message from {}", self.url),
                reason: chain(&e),
            })?;
        Ok(())
    }
}
