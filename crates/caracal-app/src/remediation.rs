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
    /// An API token, by name.
    Token(String),
    /// Automatic remediation by a policy.
    Policy(String),
}

impl Actor {
    /// The local user running the CLI (`$USER`, `$LOGNAME`, else `unknown`).
    pub fn local_user() -> Self {
        let name = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".to_owned());
        Actor::Cli(name)
    }

    /// The audit's actor string: `cli:alice`, `token:ci-bot`, `policy:AWS.S3.X`. A CLI
    /// user is recorded by login name alone, as before.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Cli(name) => name.clone(),
            Actor::Token(name) => format!("token:{name}"),
            Actor::Policy(id) => format!("policy:{id}"),
        }
    }
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
