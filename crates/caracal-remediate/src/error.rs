//! Everything that can stop a remediation, with the value a user needs to act on.

use caracal_core::AuditOutcome;

/// Why a remediation was not planned, applied or verified.
///
/// Every error returned by [`crate::Executor`] has already been written to the audit
/// store; [`Error::outcome`] says how it was recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No remediation has this id.
    #[error("unknown remediation {id:?}: `caracal remediate list` shows the known ids")]
    UnknownRemediation {
        /// The id asked for.
        id: String,
    },
    /// The remediation fixes another resource type.
    #[error(
        "remediation {remediation} fixes {expected} resources, but {resource_id} is an {actual}"
    )]
    WrongResourceType {
        /// The remediation id.
        remediation: &'static str,
        /// The type it fixes.
        expected: &'static str,
        /// The resource's type.
        actual: String,
        /// The resource.
        resource_id: String,
    },
    /// The resource id is neither an ARN caracal knows nor a caracal singleton id.
    #[error(
        "cannot tell what {resource_id:?} is: expected a resource ARN (arn:aws:s3:::bucket) or a \
         caracal id such as 123456789012::AWS.PasswordPolicy"
    )]
    UnrecognizedResource {
        /// The id as given.
        resource_id: String,
    },
    /// A parameter is unknown, of the wrong type, or out of range.
    #[error("remediation {remediation}: bad parameter {name}: {reason}")]
    BadParameter {
        /// The remediation id.
        remediation: &'static str,
        /// The parameter (or `parameters` when the set as a whole is wrong).
        name: String,
        /// What is wrong, naming the bad value.
        reason: String,
    },
    /// The resource cannot be fixed by this remediation (an AWS-managed KMS key).
    #[error("{resource_id}: {reason}")]
    NotApplicable {
        /// The resource.
        resource_id: String,
        /// Why.
        reason: String,
    },
    /// An AWS call failed.
    #[error("{operation} on {resource_id} failed: {message}")]
    Aws {
        /// The IAM action of the call, such as `s3:PutPublicAccessBlock`.
        operation: String,
        /// The resource.
        resource_id: String,
        /// The service's error code, such as `AccessDenied`, when it answered.
        code: Option<String>,
        /// The service's message, or the transport failure.
        message: String,
    },
    /// A call of a multi-call plan failed after earlier calls succeeded.
    #[error(
        "{resource_id}: call {failed} of {total} failed after {completed} completed call(s), \
         the resource is partly changed: {source}"
    )]
    PartlyApplied {
        /// The resource.
        resource_id: String,
        /// The 1-based number of the failed call.
        failed: usize,
        /// Calls in the plan.
        total: usize,
        /// Calls that succeeded before it.
        completed: usize,
        /// The failure.
        source: Box<Error>,
    },
    /// The re-check before applying found the resource changed since the plan was made.
    #[error(
        "{resource_id} changed since the plan was made (fingerprint {planned}, now {current}): \
         nothing was applied; plan again"
    )]
    ChangedSincePlan {
        /// The resource.
        resource_id: String,
        /// The fingerprint in the approved plan.
        planned: String,
        /// The fingerprint read just now.
        current: String,
    },
    /// The approved plan is for another resource, remediation or parameter set.
    #[error("the approved plan is for {planned}, not for {requested}")]
    PlanMismatch {
        /// What the plan covers.
        planned: String,
        /// What was requested.
        requested: String,
    },
    /// A bulk run asked for more resources than the circuit breaker allows.
    #[error(
        "circuit breaker: {count} resources requested, at most {max} per run; nothing was applied"
    )]
    TooManyResources {
        /// Resources requested.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The resource's account is neither the credentials' own nor a configured one.
    #[error(
        "account {account_id} of {resource_id} is not configured: add it under [[accounts]] \
         with a remediation_role_name"
    )]
    UnknownAccount {
        /// The account.
        account_id: String,
        /// The resource.
        resource_id: String,
    },
    /// The resource id does not name its account and several accounts are configured.
    #[error("{resource_id} does not name its account and {count} accounts are configured")]
    AmbiguousAccount {
        /// The resource.
        resource_id: String,
        /// Accounts configured.
        count: usize,
    },
    /// The operator did not confirm.
    #[error("not applied: {reason}")]
    NotConfirmed {
        /// Why (declined, no terminal).
        reason: String,
    },
    /// Opening an AWS session (assuming the remediation role) failed.
    #[error(transparent)]
    Session(#[from] caracal_aws::Error),
    /// The audit store failed.
    #[error("audit store: {0}")]
    Store(#[from] caracal_store::Error),
}

impl Error {
    /// How the attempt is recorded: refusals (bad input, re-check, circuit breaker,
    /// no confirmation) before any change, failures once AWS was asked to act or read.
    pub fn outcome(&self) -> AuditOutcome {
        match self {
            Self::Aws { .. } | Self::PartlyApplied { .. } | Self::Session(_) | Self::Store(_) => {
                AuditOutcome::Failed
            }
            _ => AuditOutcome::Refused,
        }
    }
}

/// Shorthand for a [`Error::BadParameter`].
pub(crate) fn bad_param(remediation: &'static str, name: &str, reason: impl Into<String>) -> Error {
    Error::BadParameter { remediation, name: name.to_owned(), reason: reason.into() }
}
