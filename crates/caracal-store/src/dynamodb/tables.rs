//! Table names and creation: [`Tables`] names a prefix's tables; `create_tables` makes
//! each (on-demand, string keys, indexes as in the module doc), waits for it to be ACTIVE,
//! and turns on the kv table's TTL.

use std::time::Duration;

use aws_sdk_dynamodb::{
    error::ProvideErrorMetadata,
    types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
    },
};
use tracing::{debug, info};

use super::DynamoStore;
use crate::error::{Error, Result};

/// The table names of one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    pub(crate) prefix: String,
    pub(crate) resources: String,
    pub(crate) history: String,
    pub(crate) compliance: String,
    pub(crate) transitions: String,
    pub(crate) alerts: String,
    pub(crate) windows: String,
    pub(crate) audit: String,
    pub(crate) kv: String,
}

impl Tables {
    pub(super) fn new(prefix: &str) -> Self {
        let name = |t: &str| format!("{prefix}-{t}");
        Self {
            prefix: prefix.to_owned(),
            resources: name("resources"),
            history: name("history"),
            compliance: name("compliance"),
            transitions: name("transitions"),
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

impl DynamoStore {
    /// Creates every missing table, waits for each to be ACTIVE, and enables the kv TTL.
    pub(super) async fn create_all(&self) -> Result<()> {
        for spec in self.specs() {
            self.create_table(&spec).await?;
        }
        self.enable_ttl().await
    }

    fn specs(&self) -> Vec<TableSpec<'_>> {
        let t = self.tables();
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
                name: &t.transitions,
                hash: "resource_id",
                range: Some("change"),
                indexes: &[
                    ("by-policy", "policy_id", "at_resource"),
                    ("by-time", "kind", "at_key"),
                ],
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
            .client()
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
                .client()
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
        let table = &self.tables().kv;
        let current = self
            .client()
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
        self.client()
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| self.err("UpdateTimeToLive", table, e))?;
        Ok(())
    }
}
