//! [`KvStore`] on SQLite: `kv` holds value, counter and expiry; `kv_members` the sets.
//!
//! Writes purge an expired key before touching it; reads treat it as absent.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{FResult, SqliteStore};
use crate::{
    error::Result,
    kv::{KvStore, expired, expiry},
};

/// Deletes `key` if it has expired; returns whether a live row remains.
fn purge_expired(conn: &Connection, key: &str, now: DateTime<Utc>) -> FResult<bool> {
    let row: Option<Option<i64>> = conn
        .query_row("SELECT expires_at FROM kv WHERE key = ?1", [key], |r| r.get(0))
        .optional()?;
    match row {
        None => Ok(false),
        Some(expires_at) if expired(expires_at, now) => {
            delete(conn, key)?;
            Ok(false)
        }
        Some(_) => Ok(true),
    }
}

fn delete(conn: &Connection, key: &str) -> FResult<()> {
    conn.execute("DELETE FROM kv WHERE key = ?1", [key])?;
    conn.execute("DELETE FROM kv_members WHERE key = ?1", [key])?;
    Ok(())
}

/// A live row's column, or `None` when absent or expired.
fn live_column<T: rusqlite::types::FromSql>(
    conn: &Connection,
    key: &str,
    column: &str,
) -> FResult<Option<T>> {
    let sql = format!("SELECT {column}, expires_at FROM kv WHERE key = ?1");
    let row: Option<(Option<T>, Option<i64>)> =
        conn.prepare_cached(&sql)?.query_row([key], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    Ok(row.and_then(|(v, expires_at)| if expired(expires_at, Utc::now()) { None } else { v }))
}

#[async_trait]
impl KvStore for SqliteStore {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_owned();
        self.read_now(move |conn| live_column(conn, &key, "value")).await
    }

    async fn put(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |tx| {
            delete(tx, &key)?;
            tx.execute(
                "INSERT INTO kv (key, value, expires_at) VALUES (?1, ?2, ?3)",
                params![key, value, expiry(Utc::now(), ttl)],
            )?;
            Ok(())
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let key = key.to_owned();
        self.write(move |tx| delete(tx, &key)).await
    }

    async fn expire_at(&self, key: &str, at: DateTime<Utc>) -> Result<()> {
        let key = key.to_owned();
        self.write(move |tx| {
            if purge_expired(tx, &key, Utc::now())? {
                tx.execute(
                    "UPDATE kv SET expires_at = ?2 WHERE key = ?1",
                    params![key, at.timestamp()],
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn incr(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64> {
        let key = key.to_owned();
        self.write(move |tx| {
            let now = Utc::now();
            if !purge_expired(tx, &key, now)? {
                tx.execute(
                    "INSERT INTO kv (key, counter, expires_at) VALUES (?1, 0, ?2)",
                    params![key, expiry(now, ttl)],
                )?;
            }
            let value = tx.query_row(
                "UPDATE kv SET counter = COALESCE(counter, 0) + ?2,
                   expires_at = COALESCE(expires_at, ?3)
                 WHERE key = ?1 RETURNING counter",
                params![key, by, expiry(now, ttl)],
                |r| r.get(0),
            )?;
            Ok(value)
        })
        .await
    }

    async fn counter(&self, key: &str) -> Result<i64> {
        let key = key.to_owned();
        self.read(move |conn| Ok(live_column(conn, &key, "counter")?.unwrap_or(0))).await
    }

    async fn set_add(&self, key: &str, members: &[String], ttl: Option<Duration>) -> Result<()> {
        if members.is_empty() {
            return Ok(());
        }
        let (key, members) = (key.to_owned(), members.to_vec());
        self.write(move |tx| {
            let now = Utc::now();
            if !purge_expired(tx, &key, now)? {
                tx.execute("INSERT INTO kv (key) VALUES (?1)", [&key])?;
            }
            if let Some(at) = expiry(now, ttl) {
                tx.execute("UPDATE kv SET expires_at = ?2 WHERE key = ?1", params![key, at])?;
            }
            let mut insert = tx
                .prepare_cached("INSERT OR IGNORE INTO kv_members (key, member) VALUES (?1, ?2)")?;
            for m in &members {
                insert.execute(params![key, m])?;
            }
            Ok(())
        })
        .await
    }

    async fn set_remove(&self, key: &str, members: &[String]) -> Result<()> {
        let (key, members) = (key.to_owned(), members.to_vec());
        self.write(move |tx| {
            if purge_expired(tx, &key, Utc::now())? {
                let mut remove =
                    tx.prepare_cached("DELETE FROM kv_members WHERE key = ?1 AND member = ?2")?;
                for m in &members {
                    remove.execute(params![key, m])?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn set_get(&self, key: &str) -> Result<BTreeSet<String>> {
        let key = key.to_owned();
        self.read(move |conn| {
            let expires_at: Option<Option<i64>> = conn
                .query_row("SELECT expires_at FROM kv WHERE key = ?1", [&key], |r| r.get(0))
                .optional()?;
            match expires_at {
                Some(at) if !expired(at, Utc::now()) => {
                    let mut stmt =
                        conn.prepare_cached("SELECT member FROM kv_members WHERE key = ?1")?;
                    let members = stmt
                        .query_map([&key], |r| r.get(0))?
                        .collect::<rusqlite::Result<BTreeSet<String>>>()?;
                    Ok(members)
                }
                _ => Ok(BTreeSet::new()),
            }
        })
        .await
    }
}
