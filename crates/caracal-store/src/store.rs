//! [`Store`]: every store of one backend behind one handle, and [`open`], the factory.

use std::sync::Arc;

use async_trait::async_trait;
use caracal_core::config::{StoreBackend, StoreConfig};

use crate::{
    alerts::AlertStore,
    audit::AuditStore,
    compliance::ComplianceStore,
    dynamodb::DynamoStore,
    error::{Error, Result},
    kv::KvStore,
    resources::ResourceStore,
    sqlite::SqliteStore,
};

/// All of caracal's state in one backend. Share it as `Arc<dyn Store>`.
///
/// Each concern is its own trait, reached through an accessor (`store.resources().get(id)`),
/// so that same-named methods (`get`, `list`) never clash.
#[async_trait]
pub trait Store: Send + Sync {
    /// Resource snapshots and their history.
    fn resources(&self) -> &dyn ResourceStore;
    /// Compliance state.
    fn compliance(&self) -> &dyn ComplianceStore;
    /// Alerts and dedup windows.
    fn alerts(&self) -> &dyn AlertStore;
    /// Remediation audit records.
    fn audit(&self) -> &dyn AuditStore;
    /// Key-value state for detections.
    fn kv(&self) -> &dyn KvStore;
    /// What this store is, for logs: `sqlite caracal.db`, `dynamodb caracal-* at ...`.
    fn describe(&self) -> String;
    /// Creates whatever storage is missing (DynamoDB tables; SQLite migrates on open).
    /// Idempotent.
    async fn create_tables(&self) -> Result<()>;
}

/// Opens the configured backend.
///
/// SQLite opens (creating when missing) and migrates the file. DynamoDB needs `dynamo`, a
/// client built by `caracal-aws` (endpoint, region, credentials and retries are its job);
/// tables are created only by [`Store::create_tables`].
pub async fn open(
    config: &StoreConfig,
    dynamo: Option<aws_sdk_dynamodb::Client>,
) -> Result<Arc<dyn Store>> {
    match config.backend {
        StoreBackend::Sqlite => Ok(Arc::new(SqliteStore::open(&config.sqlite.path).await?)),
        StoreBackend::Dynamodb => {
            let client = dynamo.ok_or(Error::MissingDynamoClient)?;
            Ok(Arc::new(DynamoStore::new(client, &config.dynamodb.table_prefix)))
        }
    }
}
