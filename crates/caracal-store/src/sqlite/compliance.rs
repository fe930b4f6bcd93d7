//! [`ComplianceStore`] on SQLite: table `compliance`; overviews are `GROUP BY` queries.

use async_trait::async_trait;
use caracal_core::{Cause, ComplianceStatus, Finding, Severity, Transition};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, Transaction, params};

use super::{FResult, Fail, SqliteStore};
use crate::{
    compliance::{
        ComplianceStore, OverviewRow, StatusCounts, TransitionQuery, all_severities, latest, merge,
    },
    error::Result,
    time,
};

const COLUMNS: &str = "resource_id, policy_id, resource_type, account_id, region, severity,
    status, message, suppressed, evaluated_at, first_seen";

fn finding_from_row(row: &Row<'_>) -> FResult<Finding> {
    let resource_id: String = row.get(0)?;
    let policy_id: String = row.get(1)?;
    let key = format!("{resource_id} {policy_id}");
    let severity: String = row.get(5)?;
    let status: String = row.get(6)?;
    let evaluated_at: String = row.get(9)?;
    let first_seen: Option<String> = row.get(10)?;
    Ok(Finding {
        first_seen: first_seen
            .map(|t| time::parse(&t))
            .transpose()
            .map_err(|e| Fail::malformed(&key, e))?,
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

fn read_one(conn: &Connection, resource_id: &str, policy_id: &str) -> FResult<Option<Finding>> {
    let sql = format!("SELECT {COLUMNS} FROM compliance WHERE resource_id = ?1 AND policy_id = ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![resource_id, policy_id])?;
    rows.next()?.map(finding_from_row).transpose()
}

fn write_finding(tx: &Transaction<'_>, f: &Finding) -> FResult<()> {
    let sql = format!(
        "INSERT OR REPLACE INTO compliance ({COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    );
    tx.prepare_cached(&sql)?.execute(params![
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
        f.first_seen.map(time::format),
    ])?;
    Ok(())
}

fn write_transition(tx: &Transaction<'_>, t: &Transition) -> FResult<()> {
    let body = serde_json::to_string(t).map_err(|e| Fail::malformed(&t.resource_id, e))?;
    tx.prepare_cached(
        "INSERT OR IGNORE INTO compliance_transitions (resource_id, policy_id, at, body)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![t.resource_id, t.policy_id, time::format(t.at), body])?;
    Ok(())
}

fn query_transitions(conn: &Connection, q: &TransitionQuery) -> FResult<Vec<Transition>> {
    let (filter, key) = match (&q.resource_id, &q.policy_id) {
        (Some(r), _) => ("resource_id = ?1", r.clone()),
        (None, Some(p)) => ("policy_id = ?1", p.clone()),
        (None, None) => ("?1 = ?1", String::new()),
    };
    let since = q.since.map(time::format).unwrap_or_default();
    let sql = format!(
        "SELECT body FROM compliance_transitions WHERE {filter} AND at >= ?2
         ORDER BY at DESC, resource_id, policy_id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![key, since])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let body: String = row.get(0)?;
        let t: Transition = serde_json::from_str(&body).map_err(|e| Fail::malformed(&key, e))?;
        if crate::compliance::matches(q, &t) {
            out.push(t);
            if out.len() >= q.limit.max(1) {
                break;
            }
        }
    }
    Ok(out)
}

#[async_trait]
impl ComplianceStore for SqliteStore {
    async fn record(&self, findings: &[Finding], cause: &Cause) -> Result<Vec<Transition>> {
        let findings: Vec<Finding> = latest(findings).into_iter().cloned().collect();
        let cause = cause.clone();
        self.write(move |tx| {
            let mut out = Vec::new();
            for next in &findings {
                let previous = read_one(tx, &next.resource_id, &next.policy_id)?;
                if let Some((finding, transition)) = merge(previous.as_ref(), next, &cause) {
                    write_finding(tx, &finding)?;
                    if let Some(t) = transition {
                        write_transition(tx, &t)?;
                        out.push(t);
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    async fn transitions(&self, query: &TransitionQuery) -> Result<Vec<Transition>> {
        let query = query.clone();
        self.read(move |conn| query_transitions(conn, &query)).await
    }

    async fn prune_transitions(&self, before: DateTime<Utc>) -> Result<u64> {
        self.write(move |tx| {
            let n = tx.execute(
                "DELETE FROM compliance_transitions WHERE at < ?1",
                [time::format(before)],
            )?;
            Ok(n as u64)
        })
        .await
    }

    async fn get(&self, resource_id: &str, policy_id: &str) -> Result<Option<Finding>> {
        let key = (resource_id.to_owned(), policy_id.to_owned());
        self.read(move |conn| read_one(conn, &key.0, &key.1)).await
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

    async fn for_resources(
        &self,
        resource_ids: &[String],
    ) -> Result<std::collections::HashMap<String, Vec<Finding>>> {
        let ids = resource_ids.to_vec();
        self.read(move |conn| {
            let mut out: std::collections::HashMap<String, Vec<Finding>> =
                std::collections::HashMap::new();
            // SQLite's bound-parameter limit is 32,766; pages are far smaller, but chunk anyway.
            for chunk in ids.chunks(500) {
                let marks = vec!["?"; chunk.len()].join(",");
                let sql = format!(
                    "SELECT {COLUMNS} FROM compliance WHERE resource_id IN ({marks})
                     ORDER BY resource_id, policy_id"
                );
                let mut stmt = conn.prepare(&sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(chunk.iter()))?;
                while let Some(row) = rows.next()? {
                    let finding = finding_from_row(row)?;
                    out.entry(finding.resource_id.clone()).or_default().push(finding);
                }
            }
            Ok(out)
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
        let at = Utc::now();
        self.write(move |tx| {
            let sql = format!("SELECT {COLUMNS} FROM compliance WHERE resource_id = ?1");
            let stored = query_findings(tx, &sql, &id)?;
            for previous in &stored {
                let gone = caracal_core::compliance::deletion(previous, at, &Cause::default());
                write_transition(tx, &gone)?;
            }
            let n = tx.execute("DELETE FROM compliance WHERE resource_id = ?1", [id])?;
            Ok(n as u64)
        })
        .await
    }
}
