//! Detection errors.

/// Loading rules, running them, or keeping alert state failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Loading or running the rule packs.
    #[error("{context}")]
    Python {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: caracal_python::Error,
    },
    /// Reading or writing alerts.
    #[error("{context}")]
    Store {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: caracal_store::Error,
    },
    /// A `[[destinations]]` entry is unusable; names the id and the key.
    #[error("destination {id}: {reason}")]
    Destination {
        /// The destination id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// Anything else that names its bad input.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub(crate) fn python(context: impl Into<String>) -> impl FnOnce(caracal_python::Error) -> Self {
        let context = context.into();
        move |source| Error::Python { context, source }
    }
    pub(crate) fn store(context: impl Into<String>) -> impl FnOnce(caracal_store::Error) -> Self {
        let context = context.into();
        move |source| Error::Store { context, source }
    }
}

/// Shorthand for detection results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
