//! [`AuditStore`]: remediation audit records, append-only.

use async_trait::async_trait;
use caracal_core::AuditRecord;

use crate::error::Result;

/// Which audit records [`AuditStore::list`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only records about this resource.
    pub resource_id: Option<String>,
    /// Only records of this remediation.
    pub remediation_id: Option<String>,
    /// At most this many, newest first.
    pub limit: usize,
}

impl AuditFilter {
    /// The newest `limit` records, any resource or remediation.
    pub fn recent(limit: usize) -> Self {
        Self { resource_id: None, remediation_id: None, limit }
    }
}

/// Remediation audit records, kept forever.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends a record. A record whose id is already stored is left as it is, so a
    /// retried append writes no duplicate.
    async fn append(&self, record: &AuditRecord) -> Result<()>;

    /// One record.
    async fn get(&self, id: &str) -> Result<Option<AuditRecord>>;

    /// Records matching `filter`, newest `at` first (ties by id).
    async fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>>;
}
