//! [`AuditStore`] on SQLite: table `audit` (JSON bodies, indexed by time, resource and
//! remediation).

use async_trait::async_trait;
use caracal_core::AuditRecord;
use rusqlite::{OptionalExtension, params};

use super::{Fail, SqliteStore};
use crate::{
    audit::{AuditFilter, AuditStore},
    error::Result,
    time,
};

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append(&self, record: &AuditRecord) -> Result<()> {
        let body = serde_json::to_string(record).unwrap_or_default();
        let r = record.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO audit (id, at, resource_id, remediation_id, body)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
                params![r.id, time::format(r.at), r.resource_id, r.remediation_id, body],
            )?;
            Ok(())
        })
        .await
    }

    async fn get(&self, id: &str) -> Result<Option<AuditRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            let body: Option<String> = conn
                .query_row("SELECT body FROM audit WHERE id = ?1", [&id], |r| r.get(0))
                .optional()?;
            body.map(|b| serde_json::from_str(&b).map_err(|e| Fail::malformed(&id, e))).transpose()
        })
        .await
    }

    async fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let filter = filter.clone();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, body FROM audit
                 WHERE (?1 IS NULL OR resource_id = ?1) AND (?2 IS NULL OR remediation_id = ?2)
                 ORDER BY at DESC, id DESC LIMIT ?3",
            )?;
            let mut rows = stmt.query(params![
                filter.resource_id,
                filter.remediation_id,
                filter.limit as i64
            ])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let id: String = row.get(0)?;
                let body: String = row.get(1)?;
                out.push(serde_json::from_str(&body).map_err(|e| Fail::malformed(&id, e))?);
            }
            Ok(out)
        })
        .await
    }
}
