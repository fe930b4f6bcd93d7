//! Errors of the engine and the test runner. A bad spec is not an error: it is an
//! [`InvalidSpec`](crate::InvalidSpec) in the loaded pack.

use std::path::PathBuf;

/// What can go wrong outside a detection's own code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A pack root or file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The embedded interpreter failed outside detection code (setup, result decoding).
    #[error("embedded python: {0}")]
    Python(String),
    /// A worker process could not be started or kept failing outside detection code.
    #[error("python worker: {0}")]
    Worker(String),
    /// A virtualenv could not be created or its pip failed.
    #[error("virtualenv {venv}: {reason}")]
    Venv {
        /// The virtualenv folder.
        venv: PathBuf,
        /// What failed.
        reason: String,
    },
    /// A `--filter` argument is not `KEY=VALUE`.
    #[error("invalid filter {0:?}: expected KEY=VALUE")]
    Filter(String),
    /// A selected pack is not defined in the loaded folders.
    #[error("no pack {id:?} in the loaded folders (defined: {defined})")]
    UnknownPack {
        /// The PackID asked for.
        id: String,
        /// The PackIDs that exist, comma-separated, or `none`.
        defined: String,
    },
}

impl Error {
    pub(crate) fn python(err: impl std::fmt::Display) -> Self {
        Self::Python(err.to_string())
    }
}
