//! [`ComplianceStore`] on SQLite: table `compliance`; overviews are `GROUP BY` queries.

use async_trait::async_trait;
use caracal_core::{ComplianceStatus, Finding, Severity};
use rusqlite::{Connection, Row, params};

use super::{FResult, Fail, SqliteStore};
use crate::{
    compliance::{ComplianceStore, OverviewRow, StatusCounts, all_severities},
    error::Result,
    time,
};

const COLUMNS: &str = "resource_id, policy_id, resource_type, account_id, region, severity,
    status, message, suppressed, evaluated_at";

fn finding_from_row(row: &Row<'_>) -> FResult<Finding> {
    let resource_id: String = row.get(0)?;
    let policy_id: String = row.get(1)?;
    let key = format!("{resource_id} {policy_id}");
    let severity: String = row.get(5)?;
    let status: String = row.get(6)?;
    let evaluated_at: String = row.get(9)?;
    Ok(Finding {
        resource_type: row.get(2)?,
        account_id: row.get(3)?,
        region: row.get(4)?,
        severity: severity.parse().map_err(|e| Fail::malformed(&key, e))?,
        status: ComplianceStatus::from_parts(&status, row.get(7)?)
            .ok_or_else(|| Fail::malformed(&key, format!("unknown status {status:?}")))?,
        suppressed: row.get(8)?,
        evaluated_at: time::parse(&evaluated_at).map_err(|e| Fail::malformed(&key, e))?,
        resource_id,
        policy_id,
    })
}

fn query_findings(conn: &Connection, sql: &str, key: &str) -> FResult<Vec<Finding>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([key])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(finding_from_row(row)?);
    }
    Ok(out)
}

/// Counts per `group` column, from `GROUP BY group, status, suppressed`.
fn grouped(conn: &Connection, group: &str) -> FResult<Vec<OverviewRow<String>>> {
    let sql = format!(
        "SELECT {group}, status, suppressed, COUNT(*) FROM compliance
         GROUP BY {group}, status, suppressed ORDER BY {group}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([])?;
    let mut out: Vec<OverviewRow<String>> = Vec::new();
    while let Some(row) = rows.next()? {
        let key: String = row.get(0)?;
        let status: String = row.get(1)?;
        let suppressed: bool = row.get(2)?;
        let n: u64 = row.get::<_, i64>(3)?.try_into().unwrap_or(0);
        if out.last().is_none_or(|last| last.key != key) {
            out.push(OverviewRow { key: key.clone(), counts: StatusCounts::default() });
        }
        if let Some(last) = out.last_mut() {
            add(&mut last.counts, &status, suppressed, n);
        }
    }
    Ok(out)
}

fn add(counts: &mut StatusCounts, status: &str, suppressed: bool, n: u64) {
    match (status, suppressed) {
        ("PASS", _) => counts.pass += n,
        ("FAIL", true) => counts.suppressed_fail += n,
        ("FAIL", false) => counts.fail += n,
        _ => counts.error += n,
    }
}

#[async_trait]
impl ComplianceStore for SqliteStore {
    async fn set_status(&self, findings: &[Finding]) -> Result<()> {
        let findings = findings.to_vec();
        self.write(move |tx| {
            let sql = format!(
                "INSERT OR REPLACE INTO compliance ({COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            for f in &findings {
                stmt.execute(params![
                    f.resource_id,
                    f.policy_id,
                    f.resource_type,
                    f.account_id,
                    f.region,
                    f.severity.as_str(),
                    f.status.as_str(),
                    f.status.message(),
                    f.suppressed,
                    time::format(f.evaluated_at),
                ])?;
            }
            Ok(())
        })
        .await
    }

    async fn get(&self, resource_id: &str, policy_id: &str) -> Result<Option<Finding>> {
        let key = (resource_id.to_owned(), policy_id.to_owned());
        self.read(move |conn| {
            let sql = format!(
                "SELECT {COLUMNS} FROM compliance WHERE resource_id = ?1 AND policy_id = ?2"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![key.0, key.1])?;
            rows.next()?.map(finding_from_row).transpose()
        })
        .await
    }

    async fn for_resource(&self, resource_id: &str) -> Result<Vec<Finding>> {
        let id = resource_id.to_owned();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {COLUMNS} FROM compliance WHERE resource_id = ?1 ORDER BY policy_id"
            );
            query_findings(conn, &sql, &id)
        })
        .await
    }

    async fn for_policy(&self, policy_id: &str) -> Result<Vec<Finding>> {
        let id = policy_id.to_owned();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {COLUMNS} FROM compliance WHERE policy_id = ?1 ORDER BY resource_id"
            );
            query_findings(conn, &sql, &id)
        })
        .await
    }

    async fn overview_by_policy(&self) -> Result<Vec<OverviewRow<String>>> {
        self.read(|conn| grouped(conn, "policy_id")).await
    }

    async fn overview_by_resource(&self) -> Result<Vec<OverviewRow<String>>> {
        self.read(|conn| grouped(conn, "resource_id")).await
    }

    async fn overview_by_severity(&self) -> Result<Vec<OverviewRow<Severity>>> {
        let rows = self.read(|conn| grouped(conn, "severity")).await?;
        let rows = rows
            .into_iter()
            .filter_map(|r| r.key.parse().ok().map(|key| OverviewRow { key, counts: r.counts }))
            .collect();
        Ok(all_severities(rows))
    }

    async fn delete_for_resource(&self, resource_id: &str) -> Result<u64> {
        let id = resource_id.to_owned();
        self.write(move |tx| {
            let n = tx.execute("DELETE FROM compliance WHERE resource_id = ?1", [id])?;
            Ok(n as u64)
        })
        .await
    }
}
