//! Remediation use cases: plan (dry run, the default everywhere) and apply a fix with
//! the real actor, over the context's executor.

use caracal_remediate::{Plan, Report, Request};

use crate::context::Context;
use crate::error::{Error, Result};

/// Who asks for a remediation, as the audit records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person at the command line: their login name.
    Cli(String),
    /// A person at the command line and the AWS principal their credentials belong to.
    CliAs {
        /// The login name.
        login: String,
        /// The caller's IAM/STS ARN (`GetCallerIdentity`).
        principal: String,
    },
    /// An API token, by name.
    Token(String),
    /// Automatic remediation by a policy.
    Policy(String),
}

impl Actor {
    /// The local user running the CLI (`$USER`, `$LOGNAME`, else `unknown`).
    pub fn local_user() -> Self {
        Actor::Cli(login_name())
    }

    /// The local user and the AWS principal the context's credentials belong to, so the
    /// audit names who really acted. When the caller cannot be identified (STS down), the
    /// login name alone, with a warning.
    pub async fn local_user_in(ctx: &Context) -> Self {
        let login = login_name();
        let principal = match ctx.aws().await {
            Ok(aws) => aws.caller_arn().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match principal {
            Ok(principal) => Actor::CliAs { login, principal },
            Err(reason) => {
                tracing::warn!(%reason, "Could not identify the AWS caller; auditing the login name only.");
                Actor::Cli(login)
            }
        }
    }

    /// The audit's actor string: `alice as arn:aws:iam::123456789012:user/alice`,
    /// `token:ci-bot`, `policy:AWS.S3.X`; a CLI user whose principal is unknown by login
    /// name alone.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Cli(name) => name.clone(),
            Actor::CliAs { login, principal } => format!("{login} as {principal}"),
            Actor::Token(name) => format!("token:{name}"),
            Actor::Policy(id) => format!("policy:{id}"),
        }
    }
}

/// `$USER`, `$LOGNAME`, else `unknown`.
fn login_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// Builds a request: `params` are `KEY=VALUE` strings checked against the
/// remediation's parameter specs.
pub fn request(
    actor: &Actor,
    resource_id: &str,
    remediation_id: &str,
    params: &[String],
) -> Result<Request> {
    let specs = caracal_remediate::find(remediation_id).map(|r| r.meta().parameters).unwrap_or(&[]);
    let parameters = caracal_remediate::parse_pairs(specs, params).map_err(Error::Invalid)?;
    Ok(Request {
        actor: actor.audit_name(),
        resource_id: resource_id.to_owned(),
        remediation_id: remediation_id.to_owned(),
        parameters,
    })
}

/// The dry run: the exact calls and the expected changes, from a fresh read. Changes
/// nothing in AWS.
pub async fn plan(ctx: &Context, request: &Request) -> Result<Plan> {
    Ok(ctx.executor().await?.plan(request).await?)
}

/// Applies an approved plan: re-check, act, verify, re-scan, audit.
pub async fn apply(ctx: &Context, request: &Request, approved: &Plan) -> Result<Report> {
    Ok(ctx.executor().await?.apply(request, approved).await?)
}

/// Plans and applies in one go, as a queue consumer does (plan, re-check, act, verify,
/// re-scan, audit); a refusal or failure is audited before it is returned.
pub async fn run(ctx: &Context, request: &Request) -> Result<Report> {
    Ok(ctx.executor().await?.run(request).await?)
}

/// Records that a plan was refused (declined, no confirmation) and returns the error
/// to report.
pub async fn refuse(ctx: &Context, request: &Request, plan: &Plan, reason: &str) -> Result<Error> {
    Ok(ctx.executor().await?.refuse(request, plan, reason).await?.into())
}
