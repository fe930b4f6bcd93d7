//! Errors of every store operation, carrying the file, endpoint or value a user can act on.

use std::path::PathBuf;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The SQLite file exists but is not an SQLite database (corrupt, or another file).
    #[error(
        "{path}: not a caracal database (the file is not SQLite or is corrupt): move it aside or set store.sqlite.path"
    )]
    NotADatabase {
        /// The database file.
        path: PathBuf,
    },
    /// The SQLite file is damaged: `PRAGMA quick_check` failed on open, or a query met a
    /// malformed page (`SQLITE_CORRUPT`).
    #[error("{path}: database is corrupt ({detail}): restore a backup or move it aside and rescan")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What SQLite found, on one line.
        detail: String,
    },
    /// The SQLite file was written by a newer caracal.
    #[error(
        "{path}: database schema version {found} is newer than this caracal supports ({supported})"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// `PRAGMA user_version` in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// Any other SQLite failure (cannot open, disk full, locked past the busy timeout).
    #[error("{path}: sqlite: {reason}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's message, on one line.
        reason: String,
    },
    /// The DynamoDB endpoint did not answer (connection refused, DNS, timeout).
    #[error("dynamodb endpoint {endpoint} is unreachable: {reason}")]
    DynamoUnreachable {
        /// The endpoint the client sent the request to.
        endpoint: String,
        /// The transport failure, on one line.
        reason: String,
    },
    /// DynamoDB answered with an error.
    #[error("dynamodb {operation} on table {table} at {endpoint} failed: {reason}")]
    Dynamo {
        /// The endpoint the client sent the request to.
        endpoint: String,
        /// The API operation, such as `BatchWriteItem`.
        operation: &'static str,
        /// The table.
        table: String,
        /// The service's error, on one line.
        reason: String,
    },
    /// DynamoDB kept returning unprocessed items after every retry.
    #[error(
        "dynamodb {operation} on table {table}: {left} items still unprocessed after {attempts} attempts"
    )]
    Unprocessed {
        /// The API operation.
        operation: &'static str,
        /// The table.
        table: String,
        /// Items left.
        left: usize,
        /// Attempts made.
        attempts: u32,
    },
    /// A stored row or item could not be read back (written by another program, or damaged).
    #[error("{location}: stored record {key:?} is malformed: {reason}")]
    Malformed {
        /// The file or table.
        location: String,
        /// The record's key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A page token that this store did not hand out.
    #[error("invalid page token {token:?}")]
    InvalidPageToken {
        /// The token as given.
        token: String,
    },
    /// The configuration asks for DynamoDB but no client was given.
    #[error(
        "store.backend is dynamodb but no DynamoDB client was built (build one with caracal-aws)"
    )]
    MissingDynamoClient,
    /// A snapshot carries an envelope key among its attributes: stored, it would not
    /// read back.
    #[error(
        "resource {resource_id}: attribute {key:?} clashes with the envelope field of that name"
    )]
    EnvelopeClash {
        /// The resource.
        resource_id: String,
        /// The clashing key.
        key: String,
    },
    /// A blocking SQLite task panicked or was cancelled.
    #[error("store task failed: {0}")]
    Task(String),
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Collapses a multi-line message to one line.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
