//! Errors: [`CollectError`] for one failed AWS call, [`Error`] for what stops a scan.

pub(crate) use caracal_core::error::chain;

/// One AWS call that failed while collecting. The scanner records it as a
/// [`ScanError`](caracal_core::ScanError) and deletes nothing in its scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation}{}: {message}", resource.as_deref().map(|r| format!(" on {r}")).unwrap_or_default())]
pub struct CollectError {
    /// The failing operation, such as `s3:GetBucketAcl`.
    pub operation: &'static str,
    /// The resource the call was about, when it was a per-resource call.
    pub resource: Option<String>,
    /// What AWS (or the SDK) said, with the whole cause chain.
    pub message: String,
}

impl CollectError {
    /// An error for `operation` with the full text of `err`.
    pub fn new(operation: &'static str, err: &(dyn std::error::Error + 'static)) -> Self {
        Self { operation, resource: None, message: chain(err) }
    }

    /// An error for `operation` with a message of our own.
    pub fn message(operation: &'static str, message: impl Into<String>) -> Self {
        Self { operation, resource: None, message: message.into() }
    }

    /// Names the resource the failed call was about.
    pub fn on(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }
}

/// What stops a scan or a rescan as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed; nothing after the failing write was recorded.
    #[error("resource store: {0}")]
    Store(#[from] caracal_store::Error),
    /// Opening an AWS session failed.
    #[error(transparent)]
    Aws(#[from] caracal_aws::Error),
    /// A `--type` or config `scan.types` entry names no collector.
    #[error("unknown resource type {0:?}: `caracal scan --help` lists the known types")]
    UnknownType(String),
    /// A targeted rescan named a resource the store has never seen.
    #[error("resource {0:?} is not in the store: scan its type first")]
    UnknownResource(String),
    /// A targeted rescan's call failed; the stored snapshot is unchanged.
    #[error("rescanning {resource_id}: {source}")]
    Rescan {
        /// The resource.
        resource_id: String,
        /// The failed call.
        source: CollectError,
    },
}
