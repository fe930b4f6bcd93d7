//! Multi-item calls: paginated queries and scans, `BatchWriteItem` / `BatchGetItem` with
//! unprocessed items retried, and conditional single-item writes run side by side.

use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_dynamodb::types::{KeysAndAttributes, WriteRequest};
use tracing::debug;

use super::{DynamoStore, Item};
use crate::error::{Error, Result};

/// Attempts for a batch call whose items keep coming back unprocessed.
const BATCH_ATTEMPTS: u32 = 8;
/// The first backoff before resending unprocessed items; doubles per attempt.
const BATCH_BACKOFF: Duration = Duration::from_millis(50);
/// Conditional single-item writes in flight at once (they cannot be batched).
const CONDITIONAL_CONCURRENCY: usize = 16;

impl DynamoStore {
    /// Every item of `query` on `table`, all pages, through the SDK's paginator.
    pub(crate) async fn query_all(
        &self,
        table: &str,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Vec<Item>> {
        query
            .table_name(table)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.err("Query", table, e))
    }

    /// Every item of a consistent scan of `table`, all pages.
    pub(crate) async fn scan_all(&self, table: &str) -> Result<Vec<Item>> {
        self.client()
            .scan()
            .table_name(table)
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.err("Scan", table, e))
    }

    /// Runs `write` on every item, [`CONDITIONAL_CONCURRENCY`] at once, and returns its
    /// answers in input order (for conditional writes: whether the condition held). The
    /// first error stops the rest.
    pub(crate) async fn each_conditional<T, F, Fut>(
        &self,
        items: Vec<T>,
        write: F,
    ) -> Result<Vec<bool>>
    where
        T: Send + 'static,
        F: Fn(DynamoStore, T) -> Fut,
        Fut: std::future::Future<Output = Result<bool>> + Send + 'static,
    {
        let mut answers = vec![false; items.len()];
        let mut pending = items.into_iter().enumerate();
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < CONDITIONAL_CONCURRENCY {
                let Some((i, item)) = pending.next() else { break };
                let fut = write(self.clone(), item);
                running.spawn(async move { (i, fut.await) });
            }
            let Some(joined) = running.join_next().await else { break };
            let (i, answer) = joined.map_err(|e| Error::Task(e.to_string()))?;
            answers[i] = answer?;
        }
        Ok(answers)
    }

    /// Writes requests 25 per `BatchWriteItem`, retrying unprocessed items.
    pub(crate) async fn batch_write(&self, table: &str, requests: Vec<WriteRequest>) -> Result<()> {
        for chunk in requests.chunks(25) {
            retry_unprocessed(
                table,
                "BatchWriteItem",
                BATCH_BACKOFF,
                chunk.to_vec(),
                |pending| async move {
                    let out = self
                        .client()
                        .batch_write_item()
                        .request_items(table, pending)
                        .send()
                        .await
                        .map_err(|e| self.err("BatchWriteItem", table, e))?;
                    Ok(out.unprocessed_items.and_then(|mut m| m.remove(table)).unwrap_or_default())
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Reads items by key, 100 per `BatchGetItem` with strong consistency, retrying
    /// unprocessed keys. Missing items are simply absent from the result.
    pub(crate) async fn batch_get(&self, table: &str, keys: Vec<Item>) -> Result<Vec<Item>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let items = Mutex::new(Vec::new());
            retry_unprocessed(table, "BatchGetItem", BATCH_BACKOFF, chunk.to_vec(), |pending| {
                let items = &items;
                async move {
                    let request = KeysAndAttributes::builder()
                        .set_keys(Some(pending))
                        .consistent_read(true)
                        .build()
                        .map_err(|e| self.build_err(table, e))?;
                    let out = self
                        .client()
                        .batch_get_item()
                        .request_items(table, request)
                        .send()
                        .await
                        .map_err(|e| self.err("BatchGetItem", table, e))?;
                    let responses = out.responses.and_then(|mut m| m.remove(table));
                    items
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend(responses.unwrap_or_default());
                    Ok(out
                        .unprocessed_keys
                        .and_then(|mut m| m.remove(table))
                        .map(|k| k.keys)
                        .unwrap_or_default())
                }
            })
            .await?;
            found.extend(items.into_inner().unwrap_or_else(|p| p.into_inner()));
        }
        Ok(found)
    }
}

/// Calls `send` with pending requests until none come back, backing off from `backoff`
/// between attempts; gives up after [`BATCH_ATTEMPTS`].
pub(crate) async fn retry_unprocessed<T, F, Fut>(
    table: &str,
    operation: &'static str,
    backoff: Duration,
    mut pending: Vec<T>,
    mut send: F,
) -> Result<()>
where
    F: FnMut(Vec<T>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>>>,
{
    let mut attempt = 0;
    while !pending.is_empty() {
        attempt += 1;
        if attempt > BATCH_ATTEMPTS {
            return Err(Error::Unprocessed {
                operation,
                table: table.to_owned(),
                left: pending.len(),
                attempts: BATCH_ATTEMPTS,
            });
        }
        if attempt > 1 {
            debug!(table, operation, left = pending.len(), attempt, "Retrying unprocessed items.");
            tokio::time::sleep(backoff * (1 << (attempt - 2).min(5))).await;
        }
        pending = send(pending).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unprocessed_items_are_resent_until_none_are_left() {
        let mut calls = Vec::new();
        retry_unprocessed("t", "BatchWriteItem", Duration::ZERO, vec![1, 2, 3], |pending| {
            calls.push(pending.clone());
            // The first call leaves the last two unprocessed, the second the last one.
            let left = pending[1..].to_vec();
            async move { Ok(left) }
        })
        .await
        .unwrap();
        assert_eq!(calls, vec![vec![1, 2, 3], vec![2, 3], vec![3]]);
    }

    #[tokio::test]
    async fn items_unprocessed_after_every_attempt_are_an_error() {
        let err = retry_unprocessed(
            "caracal-kv",
            "BatchWriteItem",
            Duration::ZERO,
            vec![1],
            |pending| async move { Ok(pending) },
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("caracal-kv"), "{err}");
        assert!(matches!(err, Error::Unprocessed { left: 1, .. }), "{err}");
    }
}
