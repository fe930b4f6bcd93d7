//! The AWS SDK behind [`crate::poll`]'s traits: [`S3Store`] streams objects with
//! GetObject, [`SqsQueue`] receives and deletes notifications, and [`S3Lake`] is the
//! data lake in a bucket (a [`LakeStore`] writing each Parquet file with PutObject).
//! Clients come from `caracal-aws` (`Clients::s3()`, `Clients::sqs()`), the only place SDK
//! config is built.

use std::future::Future;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::mpsc;

use crate::error::Error;
use crate::lake::LakeStore;
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

    async fn extend_visibility(&self, receipt: &str, seconds: u32) -> Result<(), Error> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(i32::try_from(seconds).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| Error::Source {
                context: format!("extending a message's visibility on {}", self.url),
                reason: chain(&e),
            })?;
        Ok(())
    }
}

/// Splits `s3://bucket/prefix` into the bucket and the prefix (without surrounding `/`);
/// `None` when `url` is not an `s3://` URL or names no bucket.
pub fn parse_s3_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then_some((bucket, prefix.trim_matches('/')))
}

/// The data lake in an S3 bucket: each Parquet file is one PutObject at
/// `<prefix>/<table>/year=YYYY/month=MM/day=DD/hour=HH/<file>.parquet`, the same keys as
/// [`crate::LocalLake`] under its folder, so Athena and Glue read the Hive partitions.
///
/// [`LakeStore::put`] is synchronous (sinks run on blocking code, inside
/// `block_in_place`), so it waits for the upload on a multi-thread Tokio runtime: the
/// current one, or the one [`S3Lake::new`] was called in.
#[derive(Debug, Clone)]
pub struct S3Lake {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    runtime: Option<Handle>,
}

impl S3Lake {
    /// A lake in `bucket` under `prefix` (leading and trailing `/` ignored; empty for the
    /// bucket's root).
    pub fn new(
        client: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        prefix: impl AsRef<str>,
    ) -> Self {
        S3Lake {
            client,
            bucket: bucket.into(),
            prefix: prefix.as_ref().trim_matches('/').to_owned(),
            runtime: Handle::try_current().ok(),
        }
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key prefix, without surrounding `/` (empty for the bucket's root).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The object key of a lake-relative key.
    pub fn object_key(&self, key: &str) -> String {
        if self.prefix.is_empty() { key.to_owned() } else { format!("{}/{key}", self.prefix) }
    }

    /// Runs `fut` to completion from synchronous code, on a multi-thread runtime.
    fn block_on<F: Future>(&self, fut: F) -> Result<F::Output, String> {
        let multi = |h: &Handle| h.runtime_flavor() == RuntimeFlavor::MultiThread;
        match Handle::try_current() {
            Ok(h) if multi(&h) => Ok(tokio::task::block_in_place(|| h.block_on(fut))),
            Ok(_) => Err("the S3 lake needs a multi-thread Tokio runtime".to_owned()),
            Err(_) => match &self.runtime {
                Some(h) if multi(h) => Ok(h.block_on(fut)),
                _ => Err("the S3 lake needs a multi-thread Tokio runtime".to_owned()),
            },
        }
    }
}

impl LakeStore for S3Lake {
    fn put(&mut self, key: &str, bytes: Vec<u8>) -> Result<(), Error> {
        let object_key = self.object_key(key);
        let lake_err = |reason: String| Error::Lake {
            key: format!("s3://{}/{object_key}", self.bucket),
            reason,
        };
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&object_key)
            .content_type("application/vnd.apache.parquet")
            .body(bytes.into())
            .send();
        self.block_on(request).map_err(lake_err)?.map_err(|e| lake_err(chain(&e)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_s3_url;

    #[test]
    fn s3_urls_split_into_bucket_and_trimmed_prefix() {
        assert_eq!(parse_s3_url("s3://lake/security/logs/"), Some(("lake", "security/logs")));
        assert_eq!(parse_s3_url("s3://lake"), Some(("lake", "")));
        assert_eq!(parse_s3_url("s3://lake/"), Some(("lake", "")));
        assert_eq!(parse_s3_url("s3:///logs"), None);
        assert_eq!(parse_s3_url("/tmp/lake"), None);
    }
}
