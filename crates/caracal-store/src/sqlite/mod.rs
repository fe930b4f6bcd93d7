//! The embedded backend: one SQLite file in WAL mode.
//!
//! Connections: one writer behind a `Mutex`, plus a few reader connections taken from a
//! small pool. SQLite allows one writer at a time anyway, so a single writer connection
//! queues writers fairly inside the process instead of spinning on `SQLITE_BUSY`; WAL lets
//! readers run beside it, so the API keeps answering while a scan writes a large batch.
//! Every call runs in `tokio::task::spawn_blocking`, but for point lookups and single
//! pages, which run on an idle reader right away ([`SqliteStore::read_now`]). The busy
//! timeout covers other
//! processes (a second `caracal` on the same file): every write transaction starts
//! `IMMEDIATE`, taking the write lock before its first read, so a second writer waits
//! (up to [`BUSY_TIMEOUT`]) instead of failing at once with `SQLITE_BUSY` when a deferred
//! read transaction cannot be upgraded (#11.6).
//!
//! Opening runs `PRAGMA quick_check`, so a damaged file is refused with
//! [`Error::Corrupt`] before a scan writes into it; a damaged page met later is reported
//! the same way.
//!
//! The schema is in [`schema`]; `PRAGMA user_version` records which migrations ran.

mod alerts;
mod audit;
mod compliance;
mod kv;
mod resources;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use tracing::info;

use crate::{
    alerts::AlertStore,
    audit::AuditStore,
    compliance::ComplianceStore,
    error::{Error, Result, one_line},
    kv::KvStore,
    resources::ResourceStore,
    store::Store,
};

/// How long a connection waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Reader connections: at most this many reads run at once (others wait their turn
/// rather than each opening a connection and re-preparing its statements).
const READERS: usize = 4;
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 64;
/// How long an inline read ([`SqliteStore::read_now`]) waits for a lock before it hands
/// the read to a blocking thread, which waits the full [`BUSY_TIMEOUT`].
const INLINE_BUSY_TIMEOUT: Duration = Duration::from_millis(20);

/// The SQLite store. Cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// One permit per reader connection.
    reader_slots: Arc<tokio::sync::Semaphore>,
    /// Whether the file is in WAL mode, where readers do not wait for the writer (only
    /// then may reads run inline, [`SqliteStore::read_now`]).
    wal: bool,
}

/// A failure inside a blocking closure, before the file name is attached.
#[derive(Debug)]
pub(crate) enum Fail {
    Sql(rusqlite::Error),
    Malformed { key: String, reason: String },
    TooNew { found: i64, supported: i64 },
    Corrupt { detail: String },
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sql(e)
    }
}

impl Fail {
    /// A stored value that does not parse.
    pub(crate) fn malformed(key: &str, reason: impl std::fmt::Display) -> Self {
        Self::Malformed { key: key.to_owned(), reason: reason.to_string() }
    }

    fn into_error(self, path: &Path) -> Error {
        match self {
            Self::Sql(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::NotADatabase =>
            {
                Error::NotADatabase { path: path.to_owned() }
            }
            Self::Sql(rusqlite::Error::SqliteFailure(e, detail))
                if e.code == ErrorCode::DatabaseCorrupt =>
            {
                let detail = detail.unwrap_or_else(|| e.to_string());
                Error::Corrupt { path: path.to_owned(), detail: one_line(&detail) }
            }
            Self::Corrupt { detail } => Error::Corrupt { path: path.to_owned(), detail },
            Self::Sql(e) => {
                Error::Sqlite { path: path.to_owned(), reason: one_line(&e.to_string()) }
            }
            Self::Malformed { key, reason } => {
                Error::Malformed { location: path.display().to_string(), key, reason }
            }
            Self::TooNew { found, supported } => {
                Error::SchemaTooNew { path: path.to_owned(), found, supported }
            }
        }
    }
}

pub(crate) type FResult<T> = std::result::Result<T, Fail>;

impl SqliteStore {
    /// Opens the file, creating it when missing, and runs pending migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        let path = path.to_owned();
        let task_path = path.clone();
        let inner = tokio::task::spawn_blocking(move || Inner::open(task_path))
            .await
            .map_err(|e| Error::Task(e.to_string()))?;
        let inner = inner.map_err(|f| f.into_error(&path))?;
        info!(path = %path.display(), "Opened SQLite store.");
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in one transaction on the writer connection.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> FResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        self.blocking(move || {
            let mut conn = lock(&inner.writer);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    /// Runs `f` on a reader connection.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> FResult<T> + Send + 'static,
    {
        // The semaphore is never closed, so `acquire` cannot fail. The permit moves into
        // the blocking task: a cancelled caller does not free it while the read runs.
        let slot = Arc::clone(&self.inner.reader_slots)
            .acquire_owned()
            .await
            .map_err(|e| Error::Task(e.to_string()))?;
        let inner = Arc::clone(&self.inner);
        self.blocking(move || {
            let _slot = slot;
            let conn = match lock(&inner.readers).pop() {
                Some(conn) => conn,
                None => connect(&inner.path, true)?,
            };
            let out = f(&conn);
            let mut idle = lock(&inner.readers);
            if idle.len() < READERS {
                idle.push(conn);
            }
            out
        })
        .await
    }

    /// Runs `f` on an idle reader connection right here, on the calling thread; when
    /// every reader is taken, as [`SqliteStore::read`]. Only for point lookups and single
    /// pages (indexed, bounded, answered from SQLite's page cache in microseconds): for
    /// those, handing the call to a blocking thread and back costs more than the read
    /// itself, and the API makes one or two per request (#13). Only in WAL mode, where
    /// a reader does not wait for the writer; a read that still meets a lock (another
    /// process recovering the WAL) waits [`INLINE_BUSY_TIMEOUT`] at most here, then runs
    /// again on a blocking thread. A panic in `f` is an error, as in a blocking task.
    pub(crate) async fn read_now<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> FResult<T> + Clone + Send + 'static,
    {
        if !self.inner.wal {
            return self.read(f).await;
        }
        let Ok(slot) = Arc::clone(&self.inner.reader_slots).try_acquire_owned() else {
            return self.read(f).await;
        };
        let Some(conn) = lock(&self.inner.readers).pop() else {
            // Opening a connection is file work: on a blocking thread, as usual.
            drop(slot);
            return self.read(f).await;
        };
        let inline = f.clone();
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            conn.busy_timeout(INLINE_BUSY_TIMEOUT)?;
            let out = inline(&conn);
            conn.busy_timeout(BUSY_TIMEOUT)?;
            out
        }));
        let out = match out {
            Ok(out) => {
                let mut idle = lock(&self.inner.readers);
                if idle.len() < READERS {
                    idle.push(conn);
                }
                out
            }
            // The connection may be mid-statement: it is dropped, not pooled.
            Err(_) => return Err(Error::Task("a store read panicked".into())),
        };
        drop(slot);
        match out {
            Err(Fail::Sql(rusqlite::Error::SqliteFailure(e, _)))
                if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
            {
                self.read(f).await
            }
            out => out.map_err(|f| f.into_error(&self.inner.path)),
        }
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> FResult<T> + Send + 'static,
    {
        let out = tokio::task::spawn_blocking(f).await.map_err(|e| Error::Task(e.to_string()))?;
        out.map_err(|f| f.into_error(&self.inner.path))
    }
}

/// Locks a mutex; a panic while holding it rolled its transaction back on unwind, so
/// the connection is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn connect(path: &Path, read_only: bool) -> FResult<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The writer alone has more distinct statements than rusqlite's default 16.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

impl Inner {
    fn open(path: PathBuf) -> FResult<Self> {
        let mut conn = connect(&path, false)?;
        // Reading the journal mode is the first read of the header: a file that is not a
        // database fails here with SQLITE_NOTADB.
        let mode = wal_mode(&conn)?;
        let wal = mode.eq_ignore_ascii_case("wal");
        if !wal {
            tracing::warn!(path = %path.display(), mode, "SQLite refused WAL mode.");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        quick_check(&conn)?;
        migrate(&mut conn, &path)?;
        Ok(Self {
            path,
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            reader_slots: Arc::new(tokio::sync::Semaphore::new(READERS)),
            wal,
        })
    }
}

/// `PRAGMA journal_mode = WAL`, retried while another process holds the lock: switching
/// modes takes an exclusive lock without going through the busy handler, so two processes
/// opening a fresh file at once would otherwise see "database is locked".
fn wal_mode(conn: &Connection) -> FResult<String> {
    let started = std::time::Instant::now();
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::DatabaseBusy && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return Ok(other?),
        }
    }
}

/// `PRAGMA quick_check`: every page's b-tree structure, without the slower index-content
/// comparison of `integrity_check`. A damaged page fails the open instead of a later scan.
fn quick_check(conn: &Connection) -> FResult<()> {
    let mut stmt = conn.prepare("PRAGMA quick_check(5)")?;
    let problems = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    Err(Fail::Corrupt { detail: one_line(&problems.join("; ")) })
}

/// Runs the migrations the file has not seen, each in its own immediate transaction that
/// reads the version again, so two processes opening a new file migrate it once.
fn migrate(conn: &mut Connection, path: &Path) -> FResult<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let supported = schema::MIGRATIONS.len() as i64;
    if found > supported {
        return Err(Fail::TooNew { found, supported });
    }
    for (index, sql) in schema::MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > index as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
        info!(path = %path.display(), version = index + 1, "Migrated SQLite store.");
    }
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
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
        format!("sqlite {}", self.inner.path.display())
    }
    async fn create_tables(&self) -> Result<()> {
        // Migrations ran when the file was opened.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An inline read answers from a pooled reader and returns it; a panic in one is an
    /// error (as in a blocking task), and its connection is not pooled again.
    #[tokio::test]
    async fn inline_reads_return_their_reader_and_survive_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).await.unwrap();
        // The first read opens a reader on a blocking thread and pools it.
        let one: i64 =
            store.read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get(0))?)).await.unwrap();
        assert_eq!(one, 1);
        assert_eq!(lock(&store.inner.readers).len(), 1);
        let two: i64 =
            store.read_now(|c| Ok(c.query_row("SELECT 2", [], |r| r.get(0))?)).await.unwrap();
        assert_eq!(two, 2);
        assert_eq!(lock(&store.inner.readers).len(), 1);
        let err =
            store.read_now(|_| -> FResult<i64> { panic!("a bug in a read") }).await.unwrap_err();
        assert!(matches!(err, Error::Task(_)), "{err:?}");
        assert_eq!(lock(&store.inner.readers).len(), 0);
        assert_eq!(store.inner.reader_slots.available_permits(), READERS);
        let three: i64 =
            store.read_now(|c| Ok(c.query_row("SELECT 3", [], |r| r.get(0))?)).await.unwrap();
        assert_eq!(three, 3);
    }

    /// A damaged snapshot row fails the listing with its id, never a broken page.
    #[tokio::test]
    async fn a_damaged_snapshot_fails_the_listing_by_name() {
        use crate::resources::{PageRequest, ResourceFilter, ResourceStore};
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).await.unwrap();
        store.create_tables().await.unwrap();
        let fine = caracal_core::Resource::new("arn:aws:s3:::a", "AWS.S3.Bucket", "1", "us-east-1");
        let bad = caracal_core::Resource::new("arn:aws:s3:::b", "AWS.S3.Bucket", "1", "us-east-1");
        store.put_batch(&[fine, bad], chrono::Utc::now()).await.unwrap();
        let page = store
            .list_snapshots(&ResourceFilter::default(), &PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(page.len(), 2);
        store
            .write(|tx| {
                tx.execute(
                    "UPDATE resources SET snapshot = '{\"a\":\"}' WHERE resource_id = 'arn:aws:s3:::b'",
                    [],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let err = store
            .list_snapshots(&ResourceFilter::default(), &PageRequest::first(10))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("arn:aws:s3:::b"), "{err}");
    }
}
