//! [`AlertStore`] on SQLite: tables `alerts` (JSON bodies) and `alert_windows`.

use async_trait::async_trait;
use caracal_core::Alert;
use rusqlite::{OptionalExtension, params};

use super::{Fail, SqliteStore};
use crate::{
    alerts::{AlertStore, DedupOutcome, MatchKey, alert_id, window_open},
    error::Result,
    time,
};

#[async_trait]
impl AlertStore for SqliteStore {
    async fn put(&self, alert: &Alert) -> Result<()> {
        let body = serde_json::to_string(alert).unwrap_or_default();
        let (id, last_seen) = (alert.id.clone(), time::format(alert.last_seen));
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO alerts (id, last_seen, body) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![id, last_seen, body])?;
            Ok(())
        })
        .await
    }

    async fn put_if_revision(&self, alert: &Alert, expected: Option<u64>) -> Result<bool> {
        let body = serde_json::to_string(alert).unwrap_or_default();
        let (id, last_seen) = (alert.id.clone(), time::format(alert.last_seen));
        self.write(move |tx| {
            let changed = match expected {
                None => tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO alerts (id, last_seen, body) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![id, last_seen, body])?,
                Some(revision) => tx
                    .prepare_cached(
                        "UPDATE alerts SET last_seen = ?2, body = ?3
                     WHERE id = ?1 AND COALESCE(json_extract(body, '$.revision'), 0) = ?4",
                    )?
                    .execute(params![id, last_seen, body, revision as i64])?,
            };
            Ok(changed == 1)
        })
        .await
    }

    async fn get(&self, alert_id: &str) -> Result<Option<Alert>> {
        let id = alert_id.to_owned();
        self.read(move |conn| {
            let body: Option<String> = conn
                .prepare_cached("SELECT body FROM alerts WHERE id = ?1")?
                .query_row([&id], |r| r.get(0))
                .optional()?;
            body.map(|b| serde_json::from_str(&b).map_err(|e| Fail::malformed(&id, e))).transpose()
        })
        .await
    }

    async fn list_recent(&self, limit: usize) -> Result<Vec<Alert>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, body FROM alerts ORDER BY last_seen DESC, id DESC LIMIT ?1",
            )?;
            let mut rows = stmt.query([limit as i64])?;
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

    async fn record_match(&self, key: &MatchKey<'_>) -> Result<DedupOutcome> {
        let (rule_id, dedup) = (key.rule_id.to_owned(), key.dedup.to_owned());
        let (event_time, window, threshold) = (key.event_time, key.window, key.threshold.max(1));
        let n = key.count.max(1);
        self.write(move |tx| {
            let open: Option<(String, String, i64)> = tx
                .prepare_cached(
                    "SELECT alert_id, window_start, event_count FROM alert_windows
                     WHERE rule_id = ?1 AND dedup = ?2",
                )?
                .query_row(params![rule_id, dedup], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            let open = match open {
                Some((id, start, count)) => {
                    let start = time::parse(&start).map_err(|e| Fail::malformed(&rule_id, e))?;
                    window_open(start, window, event_time).then_some((id, start, count as u64))
                }
                None => None,
            };
            let outcome = match open {
                Some((alert_id, window_start, count)) => DedupOutcome {
                    alert_id,
                    window_start,
                    event_count: count + n,
                    new_window: false,
                    threshold_reached: count < threshold && count + n >= threshold,
                },
                None => DedupOutcome {
                    alert_id: alert_id(&rule_id, &dedup, event_time),
                    window_start: event_time,
                    event_count: n,
                    new_window: true,
                    threshold_reached: n >= threshold,
                },
            };
            tx.prepare_cached(
                "INSERT OR REPLACE INTO alert_windows
                   (rule_id, dedup, alert_id, window_start, event_count)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                rule_id,
                dedup,
                outcome.alert_id,
                time::format(outcome.window_start),
                outcome.event_count as i64
            ])?;
            Ok(outcome)
        })
        .await
    }
}
