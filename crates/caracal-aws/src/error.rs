//! Errors from building AWS configuration and resolving accounts.

pub use caracal_core::error::chain;

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
    /// Discovering the organization's accounts failed.
    #[error("cannot list the organization's accounts ({operation}): {reason}")]
    Organization {
        /// The failing operation, such as `organizations:ListAccounts`.
        operation: &'static str,
        /// What the SDK said.
        reason: String,
    },
}
