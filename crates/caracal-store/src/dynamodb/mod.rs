//! The serverless backend: DynamoDB tables named `<prefix>-<table>`.
//!
//! Every table is on-demand (`PAY_PER_REQUEST`); every key attribute is a string (S).
//!
//! | table | key (hash, range) | attributes | indexes (hash, range; projection ALL) |
//! | --- | --- | --- | --- |
//! | `<prefix>-resources` | `resource_id` | `resource_type`, `account_id`, `region`, `scope` (`account/region/type`), `snapshot` (Resource JSON), `content_hash`, `first_seen`, `last_seen`, `last_change_at`, `last_change_kind`, `deleted_at` (absent while live) | `by-type` (`resource_type`, `resource_id`), `by-account` (`account_id`, `resource_id`), `by-scope` (`scope`, `resource_id`) |
//! | `<prefix>-history` | `resource_id`, `change` (`observed_at#kind`) | `observed_at`, `kind`, `snapshot` | |
//! | `<prefix>-compliance` | `resource_id`, `policy_id` | `resource_type`, `account_id`, `region`, `severity`, `status`, `message`, `suppressed` (BOOL), `evaluated_at` | `by-policy` (`policy_id`, `resource_id`) |
//! | `<prefix>-alerts` | `id` | `kind` (always `alert`), `last_seen_id` (`last_seen#id`), `body` (Alert JSON) | `by-last-seen` (`kind`, `last_seen_id`) |
//! | `<prefix>-alert-windows` | `rule_id`, `dedup_key` (`#` + dedup string, never empty) | `alert_id`, `window_start`, `event_count` (N) | |
//! | `<prefix>-audit` | `id` | `kind` (always `audit`), `at_id` (`at#id`), `resource_id`, `remediation_id`, `body` (AuditRecord JSON) | `by-resource` (`resource_id`, `at_id`), `by-remediation` (`remediation_id`, `at_id`), `by-time` (`kind`, `at_id`) |
//! | `<prefix>-kv` | `key` | `value` (S), `counter` (N), `members` (SS), `expires_at` (N, epoch seconds, the table's TTL attribute) | |
//!
//! Times are RFC 3339 UTC with nine fraction digits, so string order is time order.
//!
//! Behaviour worth knowing:
//! - Batches go through `BatchWriteItem` (25 per call) and `BatchGetItem` (100 per
//!   call); unprocessed items and keys are retried with backoff. A `put_batch` writes
//!   history items before resource items, so a batch that fails half-way is retried
//!   without duplicate history (history keys are `observed_at#kind`).
//! - Page tokens are the `LastEvaluatedKey` (or the key of the last item returned)
//!   hex-encoded. Listing a resource type, an account or a full scope queries an index
//!   and returns ids in order; other filters scan the table (stable, not sorted).
//! - Index reads are eventually consistent: `ids_in_scope` may miss a resource written
//!   an instant earlier, which can only delay a deletion, never invent one.
//! - DynamoDB deletes expired kv items lazily (within days), so every read checks
//!   `expires_at` itself.
//! - The compliance overviews scan the compliance table and count in memory.
//! - Alert listing and the audit log's time index use one constant partition (`kind`),
//!   fine for their volume (alerts and remediations, not events).

mod alerts;
mod audit;
mod compliance;
mod kv;
mod resources;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::{
    Client,
    config::{
        ConfigBag, Intercept, RuntimeComponents, interceptors::BeforeTransmitInterceptorContextRef,
    },
    error::{ProvideErrorMetadata, SdkError},
    types::{
        AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
        KeyType, KeysAndAttributes, Projection, ProjectionType, ScalarAttributeType, TableStatus,
        TimeToLiveSpecification, WriteRequest,
    },
};
use caracal_core::error::chain;
use tracing::{debug, info};

use crate::{
    alerts::AlertStore,
    audit::AuditStore,
    compliance::ComplianceStore,
    error::{Error, Result, one_line},
    kv::KvStore,
    resources::ResourceStore,
    store::Store,
};

/// One DynamoDB item.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// Attempts for a batch call whose items keep coming back unprocessed.
const BATCH_ATTEMPTS: u32 = 8;
/// The first backoff before resending unprocessed items; doubles per attempt.
const BATCH_BACKOFF: Duration = Duration::from_millis(50);
/// Conditional single-item writes in flight at once (they cannot be batched).
const CONDITIONAL_CONCURRENCY: usize = 16;

/// The DynamoDB store. Cheap to clone.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    tables: Arc<Tables>,
    endpoint: Arc<Mutex<Option<String>>>,
    fallback_endpoint: String,
}

/// The table names of one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    pub(crate) prefix: String,
    pub(crate) resources: String,
    pub(crate) history: String,
    pub(crate) compliance: String,
    pub(crate) alerts: String,
    pub(crate) windows: String,
    pub(crate) audit: String,
    pub(crate) kv: String,
}

impl Tables {
    fn new(prefix: &str) -> Self {
        let name = |t: &str| format!("{prefix}-{t}");
        Self {
            prefix: prefix.to_owned(),
            resources: name("resources"),
            history: name("history"),
            compliance: name("compliance"),
            alerts: name("alerts"),
            windows: name("alert-windows"),
            audit: name("audit"),
            kv: name("kv"),
        }
    }
}

/// A table to create: name, key attributes and indexes.
struct TableSpec<'a> {
    name: &'a str,
    hash: &'static str,
    range: Option<&'static str>,
    /// `(index name, hash, range)`.
    indexes: &'static [(&'static str, &'static str, &'static str)],
}

/// Records where requests go, so a transport error can name the endpoint even when the
/// client's endpoint came from the environment rather than from caracal's config.
#[derive(Debug)]
struct EndpointRecorder(Arc<Mutex<Option<String>>>);

impl Intercept for EndpointRecorder {
    fn name(&self) -> &'static str {
        "CaracalStoreEndpointRecorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let uri = context.request().uri();
        let origin = match uri.find("://") {
            Some(i) => uri[i + 3..].find('/').map_or(uri, |j| &uri[..i + 3 + j]),
            None => uri,
        };
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_deref() != Some(origin) {
            *slot = Some(origin.to_owned());
        }
        Ok(())
    }
}

impl DynamoStore {
    /// A store on the tables `<table_prefix>-*`, through a client built by `caracal-aws`.
    pub fn new(client: Client, table_prefix: &str) -> Self {
        let endpoint = Arc::new(Mutex::new(None));
        let fallback_endpoint = match client.config().region() {
            Some(region) => format!("dynamodb.{region}.amazonaws.com"),
            None => "dynamodb (no region configured)".to_owned(),
        };
        let config = client
            .config()
            .to_builder()
            .interceptor(EndpointRecorder(Arc::clone(&endpoint)))
            .build();
        Self {
            client: Client::from_conf(config),
            tables: Arc::new(Tables::new(table_prefix)),
            endpoint,
            fallback_endpoint,
        }
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn tables(&self) -> &Tables {
        &self.tables
    }

    /// The endpoint requests went to, as far as known.
    pub fn endpoint(&self) -> String {
        let recorded = self.endpoint.lock().unwrap_or_else(|p| p.into_inner()).clone();
        recorded.unwrap_or_else(|| self.fallback_endpoint.clone())
    }

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

    /// Maps an SDK error to [`Error`], naming the endpoint, operation and table.
    pub(crate) fn err<E, R>(&self, operation: &'static str, table: &str, e: SdkError<E, R>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let endpoint = self.endpoint();
        match &e {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
                Error::DynamoUnreachable { endpoint, reason: one_line(&chain(&e)) }
            }
            _ => {
                let reason = match (e.code(), e.message()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(code), None) => code.to_owned(),
                    _ => chain(&e),
                };
                Error::Dynamo {
                    endpoint,
                    operation,
                    table: table.to_owned(),
                    reason: one_line(&reason),
                }
            }
        }
    }

    /// An item that cannot be read back.
    pub(crate) fn malformed(
        &self,
        table: &str,
        key: &str,
        reason: impl std::fmt::Display,
    ) -> Error {
        Error::Malformed {
            location: table.to_owned(),
            key: key.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// A request builder that refused its input (a bug here, reported instead of a panic).
    pub(crate) fn build_err(&self, table: &str, e: impl std::fmt::Display) -> Error {
        Error::Dynamo {
            endpoint: self.endpoint(),
            operation: "build request",
            table: table.to_owned(),
            reason: e.to_string(),
        }
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
                        .client
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
                        .client
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

    fn specs(&self) -> Vec<TableSpec<'_>> {
        let t = &self.tables;
        vec![
            TableSpec {
                name: &t.resources,
                hash: "resource_id",
                range: None,
                indexes: &[
                    ("by-type", "resource_type", "resource_id"),
                    ("by-account", "account_id", "resource_id"),
                    ("by-scope", "scope", "resource_id"),
                ],
            },
            TableSpec {
                name: &t.history,
                hash: "resource_id",
                range: Some("change"),
                indexes: &[],
            },
            TableSpec {
                name: &t.compliance,
                hash: "resource_id",
                range: Some("policy_id"),
                indexes: &[("by-policy", "policy_id", "resource_id")],
            },
            TableSpec {
                name: &t.alerts,
                hash: "id",
                range: None,
                indexes: &[("by-last-seen", "kind", "last_seen_id")],
            },
            TableSpec { name: &t.windows, hash: "rule_id", range: Some("dedup_key"), indexes: &[] },
            TableSpec {
                name: &t.audit,
                hash: "id",
                range: None,
                indexes: &[
                    ("by-resource", "resource_id", "at_id"),
                    ("by-remediation", "remediation_id", "at_id"),
                    ("by-time", "kind", "at_id"),
                ],
            },
            TableSpec { name: &t.kv, hash: "key", range: None, indexes: &[] },
        ]
    }

    async fn create_table(&self, spec: &TableSpec<'_>) -> Result<()> {
        let table = spec.name;
        let b = |e| self.build_err(table, e);
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder().attribute_name(name).key_type(kind).build().map_err(b)
        };
        let mut attributes = vec![spec.hash];
        attributes.extend(spec.range);
        let mut request = self
            .client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key(spec.hash, KeyType::Hash)?);
        if let Some(range) = spec.range {
            request = request.key_schema(key(range, KeyType::Range)?);
        }
        for (index, hash, range) in spec.indexes {
            attributes.extend([*hash, *range]);
            request = request.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(*index)
                    .key_schema(key(hash, KeyType::Hash)?)
                    .key_schema(key(range, KeyType::Range)?)
                    .projection(Projection::builder().projection_type(ProjectionType::All).build())
                    .build()
                    .map_err(b)?,
            );
        }
        attributes.sort_unstable();
        attributes.dedup();
        for name in attributes {
            request = request.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(b)?,
            );
        }
        match request.send().await {
            Ok(_) => info!(table, "Created DynamoDB table."),
            Err(e) if e.code() == Some("ResourceInUseException") => {
                debug!(table, "DynamoDB table exists.");
            }
            Err(e) => return Err(self.err("CreateTable", table, e)),
        }
        self.wait_active(table).await
    }

    async fn wait_active(&self, table: &str) -> Result<()> {
        for attempt in 0..120u32 {
            let out = self
                .client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| self.err("DescribeTable", table, e))?;
            if out.table.and_then(|t| t.table_status) == Some(TableStatus::Active) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt.min(8) + 1))).await;
        }
        Err(Error::Dynamo {
            endpoint: self.endpoint(),
            operation: "DescribeTable",
            table: table.to_owned(),
            reason: "table did not become ACTIVE".into(),
        })
    }

    async fn enable_ttl(&self) -> Result<()> {
        let table = &self.tables.kv;
        let current = self
            .client
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .map_err(|e| self.err("DescribeTimeToLive", table, e))?;
        let enabled = current
            .time_to_live_description
            .and_then(|d| d.attribute_name)
            .is_some_and(|name| name == "expires_at");
        if enabled {
            return Ok(());
        }
        let spec = TimeToLiveSpecification::builder()
            .attribute_name("expires_at")
            .enabled(true)
            .build()
            .map_err(|e| self.build_err(table, e))?;
        self.client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| self.err("UpdateTimeToLive", table, e))?;
        Ok(())
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

/// A string attribute.
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub(crate) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A string attribute of an item, if present.
pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// A number attribute of an item, if present and integral.
pub(crate) fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|t| t.parse().ok())
}

/// A key of string attributes.
pub(crate) fn key<const N: usize>(parts: [(&str, &str); N]) -> Item {
    parts.into_iter().map(|(k, v)| (k.to_owned(), s(v))).collect()
}

#[async_trait]
impl Store for DynamoStore {
    fn resources(&self) -> &dyn ResourceStore {
        self
    }
    fn compliance(&self) -> &dyn ComplianceStore {
        self
    }
    fn alerts(&self) -> &dyn AlertStore {
        self
    }
    fn audit(&self) -> &dyn AuditStore {
        self
    }
    fn kv(&self) -> &dyn KvStore {
        self
    }
    fn describe(&self) -> String {
        format!("dynamodb {}-* at {}", self.tables.prefix, self.endpoint())
    }
    async fn create_tables(&self) -> Result<()> {
        for spec in self.specs() {
            self.create_table(&spec).await?;
        }
        self.enable_ttl().await
    }
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
