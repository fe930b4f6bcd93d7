//! Errors: one per record that could not become an event, one per object that could not
//! be read at all.

use std::fmt;

/// Why one input record did not become an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RejectCode {
    /// No candidate parser recognised the record.
    Unclassified,
    /// A parser recognised the record but a field was malformed.
    Malformed,
    /// The line is not valid UTF-8 (binary junk).
    NotUtf8,
    /// The line is longer than the configured maximum.
    TooLong,
    /// The JSON is not well formed.
    InvalidJson,
    /// The compressed stream or the file ended early or could not be read.
    Unreadable,
    /// The object's key matches no prefix of the configured sources, so it was not read.
    Unrouted,
}

impl RejectCode {
    /// The label used in counters and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::Unclassified => "unclassified",
            RejectCode::Malformed => "malformed",
            RejectCode::NotUtf8 => "not_utf8",
            RejectCode::TooLong => "too_long",
            RejectCode::InvalidJson => "invalid_json",
            RejectCode::Unreadable => "unreadable",
            RejectCode::Unrouted => "unrouted",
        }
    }
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One input record that did not become an event: where it was and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{object}:{line}: {code}: {reason}")]
pub struct RecordError {
    /// The object (S3 key or file path) the record came from.
    pub object: String,
    /// 1-based line number; for records streamed out of a JSON array, the line where the
    /// decoder stood.
    pub line: u64,
    /// The log type that claimed the record, when one did.
    pub log_type: Option<String>,
    /// The closed-set reason, for counting.
    pub code: RejectCode,
    /// The detail, for people.
    pub reason: String,
}

/// An error that stops processing before or outside record reading.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A local file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A path given to read is neither a regular file nor a folder (a device, a FIFO, a
    /// socket).
    #[error("cannot read {path}: it is a {kind}, not a regular file or a folder")]
    NotAFile {
        /// The path.
        path: String,
        /// What it is instead, such as `character device`.
        kind: &'static str,
    },
    /// A custom schema file is invalid.
    #[error("invalid log schema {name}: {reason}")]
    Schema {
        /// The schema file or name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// An unknown log type was asked for.
    #[error("unknown log type {0:?}")]
    UnknownLogType(String),
    /// Writing to the data lake failed.
    #[error("cannot write {key} to the data lake: {reason}")]
    Lake {
        /// The object key or path being written.
        key: String,
        /// The cause.
        reason: String,
    },
    /// An object named in a notification does not exist.
    #[error("object s3://{bucket}/{key} does not exist")]
    MissingObject {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// An object's key matches no prefix of the configured sources.
    #[error("object s3://{bucket}/{key} matches no prefix of the configured sources")]
    Unrouted {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// A source (object store, queue) failed.
    #[error("{context}: {reason}")]
    Source {
        /// What was being done.
        context: String,
        /// The cause.
        reason: String,
    },
}
