//! Errors raised by the core types themselves (configuration and parsing of ids).

use std::path::PathBuf;

/// An error from loading configuration or parsing a core value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration file could not be read.
    #[error("{path}: cannot read configuration: {source}")]
    ConfigRead {
        /// The file that was read.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML or has unknown or mistyped keys.
    #[error("{path}: invalid configuration: {reason}")]
    ConfigInvalid {
        /// The file that was parsed.
        path: PathBuf,
        /// What is wrong, with line and key where known.
        reason: String,
    },
    /// An environment override has a value that cannot be used.
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    EnvInvalid {
        /// The variable's name.
        name: &'static str,
        /// Its value.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// A severity name that is not one of INFO, LOW, MEDIUM, HIGH, CRITICAL.
    #[error("unknown severity {0:?}: expected one of Info, Low, Medium, High, Critical")]
    UnknownSeverity(String),
}

/// An error and its whole cause chain on one line, `: `-joined, skipping a cause whose text
/// the line already holds. AWS SDK errors often say only "service error" or "dispatch
/// failure" at the top, with the code or the refused connection underneath.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("dispatch failure")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn chain_keeps_the_cause_on_one_line() {
        let err = Outer(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"));
        assert_eq!(chain(&err), "dispatch failure: refused");
    }
}
