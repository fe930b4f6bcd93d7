//! The application layer's errors: the failing crate's error with what was being done.

/// A use case failed. Each variant names what was being done; the cause is its source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Loading or validating the configuration.
    #[error("configuration")]
    Config(#[source] Box<caracal_core::Error>),
    /// Building AWS clients or sessions.
    #[error("{context}")]
    Aws {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: Box<caracal_aws::Error>,
    },
    /// Reading or writing the store.
    #[error("{context}")]
    Store {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: Box<caracal_store::Error>,
    },
    /// The scan as a whole failed (per-type failures are in the scan report instead).
    #[error("scanning")]
    Scan(#[source] Box<caracal_scan::Error>),
    /// Loading packs or running detections.
    #[error("{context}")]
    Python {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: Box<caracal_python::Error>,
    },
    /// Reading logs or writing the lake.
    #[error("{context}")]
    Logs {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: Box<caracal_logs::Error>,
    },
    /// The lake refused the buffered events; what could be kept was written elsewhere.
    #[error("{message}")]
    LakeRescued {
        /// Where the buffered events went, or why they could not be kept.
        message: String,
        /// Why the processing failed.
        #[source]
        source: Box<Error>,
    },
    /// Running rules, keeping alerts, or configuring destinations.
    #[error("{context}")]
    Detect {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: Box<caracal_detect::Error>,
    },
    /// A remediation was refused or failed.
    #[error(transparent)]
    Remediate(Box<caracal_remediate::Error>),
    /// An input that names something that does not exist or does not fit.
    #[error("{0}")]
    Invalid(String),
    /// A background task panicked or was cancelled.
    #[error("{0} task failed: {1}")]
    Task(&'static str, String),
}

impl Error {
    pub(crate) fn aws(context: impl Into<String>) -> impl FnOnce(caracal_aws::Error) -> Self {
        let context = context.into();
        move |source| Error::Aws { context, source: Box::new(source) }
    }
    pub(crate) fn store(context: impl Into<String>) -> impl FnOnce(caracal_store::Error) -> Self {
        let context = context.into();
        move |source| Error::Store { context, source: Box::new(source) }
    }
    pub(crate) fn python(context: impl Into<String>) -> impl FnOnce(caracal_python::Error) -> Self {
        let context = context.into();
        move |source| Error::Python { context, source: Box::new(source) }
    }
    pub(crate) fn detect(context: impl Into<String>) -> impl FnOnce(caracal_detect::Error) -> Self {
        let context = context.into();
        move |source| Error::Detect { context, source: Box::new(source) }
    }
    pub(crate) fn logs(context: impl Into<String>) -> impl FnOnce(caracal_logs::Error) -> Self {
        let context = context.into();
        move |source| Error::Logs { context, source: Box::new(source) }
    }
}

impl From<caracal_core::Error> for Error {
    fn from(e: caracal_core::Error) -> Self {
        Error::Config(Box::new(e))
    }
}

impl From<caracal_scan::Error> for Error {
    fn from(e: caracal_scan::Error) -> Self {
        Error::Scan(Box::new(e))
    }
}

impl From<caracal_remediate::Error> for Error {
    fn from(e: caracal_remediate::Error) -> Self {
        Error::Remediate(Box::new(e))
    }
}

/// Shorthand for the application layer's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
