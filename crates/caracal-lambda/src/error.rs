//! The functions' errors, and how the Lambda runtime reports them.

use lambda_runtime::Diagnostic;

/// A function could not start or could not handle its event.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An environment variable is missing or malformed.
    #[error("environment variable {name}: {reason}")]
    Env {
        /// The variable.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A destination secret could not be read.
    #[error("secret {name} ({id}): {reason}")]
    Secret {
        /// The name the configuration refers to (`env:NAME`).
        name: String,
        /// The Secrets Manager secret or SSM parameter (name or ARN).
        id: String,
        /// Why it failed.
        reason: String,
    },
    /// The event is not what this function takes; retrying cannot help.
    #[error("unexpected event: {0}")]
    Payload(String),
    /// Sending to a queue failed.
    #[error("sending to {queue}: {reason}")]
    Queue {
        /// The queue URL.
        queue: String,
        /// Why it failed.
        reason: String,
    },
    /// A use case failed.
    #[error(transparent)]
    App(#[from] caracal_app::Error),
}

impl Error {
    /// True when the same event may succeed later (AWS or store trouble); false for an
    /// event or a configuration that can never work.
    pub fn retryable(&self) -> bool {
        match self {
            Error::Env { .. } | Error::Payload(_) => false,
            Error::Secret { .. } | Error::Queue { .. } => true,
            Error::App(err) => !matches!(err, caracal_app::Error::Invalid(_)),
        }
    }
}

impl From<Error> for Diagnostic {
    fn from(err: Error) -> Self {
        let error_type = if err.retryable() { "Retryable" } else { "NonRetryable" };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: caracal_core::error::chain(&err),
        }
    }
}

/// Shorthand for the functions' results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
