//! Errors of the query engine.

/// What went wrong while opening the lake, running a query or printing its rows.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A lake folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The folder or file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// DataFusion refused the query or failed while running it.
    #[error("query failed: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
    /// Rows could not be formatted for output.
    #[error("cannot print the rows: {0}")]
    Output(String),
    /// A time macro of the pack format's SQL (`p_occurs_since(...)`) that cannot expand.
    #[error("{0}")]
    Macro(String),
    /// The S3 lake could not be listed.
    #[error("{location}: {reason}")]
    Store {
        /// The bucket and prefix.
        location: String,
        /// The cause.
        reason: String,
    },
    /// A search value that no indicator column holds.
    #[error("{0:?} is not an IP, domain, ARN, account id, instance id, hash, email or username")]
    NotAnIndicator(String),
}
