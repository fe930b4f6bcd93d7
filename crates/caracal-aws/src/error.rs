//! Errors from building AWS configuration and resolving accounts.

/// An error building AWS configuration or resolving an account.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No region was configured anywhere (config, profile, `AWS_REGION`).
    #[error("no AWS region configured: set aws.regions in caracal.toml or AWS_REGION")]
    NoRegion,
    /// `sts:GetCallerIdentity` failed, so the credentials' account is unknown.
    #[error("cannot identify the AWS account of the credentials (endpoint {endpoint}): {reason}")]
    Identity {
        /// The endpoint called, or `default` for AWS's own.
        endpoint: String,
        /// What the SDK said.
        reason: String,
    },
    /// Assuming a role into an account failed.
    #[error("cannot assume {role_arn}: {reason}")]
    AssumeRole {
        /// The role's ARN.
        role_arn: String,
        /// What STS said.
        reason: String,
    },
}

/// The full chain of an SDK error as one line: the SDK's `Display` alone often says only
/// "service error", which hides the cause an operator needs.
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
