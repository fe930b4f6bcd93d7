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
    /// A search value that no indicator column holds.
    #[error("{0:?} is not an IP, domain, ARN, account id, instance id, hash, email or username")]
    NotAnIndicator(String),
}
