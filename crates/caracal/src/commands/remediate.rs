//! `caracal remediate list|plan|apply|history` (issue #6): a thin shell over
//! `caracal_app::remediation`. Dry run is the default: only `apply` changes anything,
//! and only after showing the plan and getting a yes (a prompt, or `--yes`).
//!
//! Exits: `plan` 0 nothing to do, 1 changes planned; `apply` 0 fixed or already
//! compliant, 1 not fixed or declined; 2 for errors and refusals.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use caracal_app::{Actor, Context, remediation};
use caracal_core::AuditOutcome;
use caracal_remediate::{Plan, REMEDIATIONS, Report, Request};
use caracal_store::AuditFilter;
use clap::{Args, Subcommand};

use super::Global;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the remediations caracal knows
    List(ListArgs),
    /// Show the API calls a remediation would make on a resource, and make none
    Plan(TargetArgs),
    /// Show the plan, ask, then apply it, re-checking the resource first
    Apply(ApplyArgs),
    /// Show past remediation attempts from the audit log
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON instead of a table
    #[arg(long, help_heading = "OUTPUT")]
    json: bool,
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The resource's ResourceId: an ARN, or e.g. 123456789012::AWS.PasswordPolicy
    #[arg(long, value_name = "ID", help_heading = "TARGET")]
    resource: String,

    /// The remediation id, e.g. AWS.S3.BlockBucketPublicAccess (see `remediate list`)
    #[arg(long, value_name = "ID", help_heading = "TARGET")]
    remediation: String,

    /// A parameter, repeatable: --param ports=22,3389
    #[arg(long = "param", value_name = "KEY=VALUE", help_heading = "TARGET")]
    params: Vec<String>,

    /// Print JSON instead of text
    #[arg(long, help_heading = "OUTPUT")]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The resource's ResourceId
    #[arg(long, value_name = "ID", required_unless_present = "policy", help_heading = "TARGET")]
    resource: Option<String>,

    /// The remediation id (see `remediate list`)
    #[arg(long, value_name = "ID", required_unless_present = "policy", help_heading = "TARGET")]
    remediation: Option<String>,

    /// A parameter, repeatable: --param ports=22,3389
    #[arg(long = "param", value_name = "KEY=VALUE", help_heading = "TARGET")]
    params: Vec<String>,

    /// Fix every stored failing resource of this policy with its AutoRemediationID
    ///
    /// Uses the `[remediation]` allow / deny lists and circuit breaker, audits each
    /// attempt with you as the actor, and re-evaluates what it fixed. Needs
    /// --all-failing and --yes.
    #[arg(
        long,
        value_name = "POLICY_ID",
        requires = "all_failing",
        conflicts_with_all = ["resource", "remediation", "params"],
        help_heading = "BULK"
    )]
    policy: Option<String>,

    /// With --policy: every failing resource of the policy (the only bulk mode)
    #[arg(long, requires = "policy", help_heading = "BULK")]
    all_failing: bool,

    /// With --policy: the policy folders (default: `[policies] paths`)
    #[arg(long = "policies", value_name = "DIR", requires = "policy", help_heading = "BULK")]
    policies: Vec<std::path::PathBuf>,

    /// Print JSON instead of text
    #[arg(long, help_heading = "OUTPUT")]
    json: bool,

    /// Apply without asking (required when stdin is not a terminal)
    ///
    /// Without it, apply asks on the terminal and refuses when there is none.
    #[arg(long, short = 'y', help_heading = "SAFETY")]
    yes: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only attempts on this resource
    #[arg(long, value_name = "ID")]
    resource: Option<String>,

    /// Only attempts of this remediation
    #[arg(long, value_name = "ID")]
    remediation: Option<String>,

    /// At most this many records, newest first
    #[arg(long, default_value_t = 20)]
    limit: usize,

    /// Print JSON instead of a table
    #[arg(long, help_heading = "OUTPUT")]
    json: bool,
}

pub async fn run(cmd: Command, global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::List(args) => list(&args),
        Command::Plan(args) => plan(&args, global).await,
        Command::Apply(args) => apply(&args, global).await,
        Command::History(args) => history(&args, global).await,
    }
}

fn list(args: &ListArgs) -> anyhow::Result<ExitCode> {
    if args.json {
        let all: Vec<serde_json::Value> = REMEDIATIONS
            .iter()
            .map(|r| {
                let m = r.meta();
                serde_json::json!({
                    "id": m.id,
                    "resource_type": m.resource_type,
                    "risk": m.risk,
                    "description": m.description,
                    "permissions": m.permissions,
                    "parameters": m.parameters.iter().map(|p| serde_json::json!({
                        "name": p.name, "type": p.kind, "default": p.default_value(),
                        "required": p.required, "description": p.description,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<42} {:<24} {:<6} DESCRIPTION", "ID", "RESOURCE TYPE", "RISK");
    for r in REMEDIATIONS {
        let m = r.meta();
        println!("{:<42} {:<24} {:<6} {}", m.id, m.resource_type, m.risk.as_str(), m.description);
        for p in m.parameters {
            let default = match (p.default, p.required) {
                (Some(d), _) => format!("default {d}"),
                (None, true) => "required".to_owned(),
                (None, false) => "optional".to_owned(),
            };
            println!("{:<42}   --param {}=<{}> ({default})", "", p.name, p.kind.as_str());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn plan(args: &TargetArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let (ctx, req) = prepare(args, global, false).await?;
    let plan = remediation::plan(&ctx, &req).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print_plan(&plan);
    }
    Ok(if plan.is_noop() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn apply(args: &ApplyArgs, global: &Global) -> anyhow::Result<ExitCode> {
    if let Some(policy) = &args.policy {
        return apply_policy(args, policy, global).await;
    }
    let t = TargetArgs {
        resource: args.resource.clone().unwrap_or_default(),
        remediation: args.remediation.clone().unwrap_or_default(),
        params: args.params.clone(),
        json: args.json,
    };
    let t = &t;
    let (ctx, req) = prepare(t, global, true).await?;
    let plan = remediation::plan(&ctx, &req).await?;
    if !t.json {
        print_plan(&plan);
    }
    if !plan.is_noop() && !args.yes {
        if !std::io::stdin().is_terminal() {
            let reason = "no terminal to confirm on and --yes not given";
            return Err(remediation::refuse(&ctx, &req, &plan, reason).await?.into());
        }
        if !confirm(&plan)? {
            remediation::refuse(&ctx, &req, &plan, "declined at the prompt").await?;
            eprintln!("Not applied.");
            return Ok(ExitCode::from(1));
        }
    }
    let report = remediation::apply(&ctx, &req, &plan).await?;
    if t.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(match report.outcome {
        AuditOutcome::Fixed | AuditOutcome::AlreadyCompliant => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}

/// `apply --policy ID --all-failing --yes`: the automatic path, run by hand.
async fn apply_policy(args: &ApplyArgs, policy: &str, global: &Global) -> anyhow::Result<ExitCode> {
    if !args.yes {
        anyhow::bail!(
            "apply --policy changes every failing resource of {policy}: add --yes \
             (the [remediation] circuit breaker still applies)"
        );
    }
    let config = global.load_config()?;
    let paths = match args.policies.is_empty() {
        true => config.policies.paths.clone(),
        false => args.policies.clone(),
    };
    let source = caracal_app::PolicySource::configured(paths, &config.policies);
    let ctx = std::sync::Arc::new(Context::from_config(config));
    let (report, again) = caracal_app::auto_remediate::fix_failing(
        &ctx,
        &source,
        policy,
        Actor::local_user_in(&ctx).await,
    )
    .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for a in &report.attempts {
            let why = a.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default();
            println!("{:<17} {}{why}", a.outcome.as_str(), a.resource_id);
        }
        for s in &report.skipped {
            println!("{:<17} {s}", "skipped");
        }
        for t in &report.tripped {
            eprintln!(
                "Circuit breaker: {} eligible, {} allowed; the run stopped (alert {}).",
                t.eligible,
                t.allowed,
                t.alert_id.as_deref().unwrap_or("-")
            );
        }
        if let Some(again) = &again {
            let passing =
                again.findings.iter().filter(|f| f.status == caracal_core::ComplianceStatus::Pass);
            eprintln!(
                "Re-evaluated {} fixed resources: {} pass.",
                again.findings.len(),
                passing.count()
            );
        }
    }
    let clean = report.tripped.is_empty()
        && report
            .attempts
            .iter()
            .all(|a| matches!(a.outcome, AuditOutcome::Fixed | AuditOutcome::AlreadyCompliant));
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn history(args: &HistoryArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let ctx = Context::from_config(global.load_config()?);
    let store = ctx.store().await?;
    let filter = AuditFilter {
        resource_id: args.resource.clone(),
        remediation_id: args.remediation.clone(),
        limit: args.limit,
    };
    let records = store.audit().list(&filter).await.context("reading the audit log")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&records)?);
        return Ok(ExitCode::SUCCESS);
    }
    // An intent closed by its outcome record is shown once, as the outcome; one left
    // open means the process stopped while acting (#11.9).
    let closed: std::collections::HashSet<&str> =
        records.iter().filter_map(|r| r.intent.as_deref()).collect();
    println!("{:<20} {:<17} {:<12} {:<40} RESOURCE", "TIME", "OUTCOME", "ACTOR", "REMEDIATION");
    for r in &records {
        let open_intent = r.outcome == AuditOutcome::Applying;
        if open_intent && closed.contains(r.id.as_str()) {
            continue;
        }
        let outcome = if open_intent { "unknown" } else { r.outcome.as_str() };
        println!(
            "{:<20} {:<17} {:<12} {:<40} {}",
            r.at.format("%Y-%m-%d %H:%M:%S"),
            outcome,
            r.actor,
            r.remediation_id,
            r.resource_id
        );
        if let Some(err) = &r.error {
            println!("{:<20} error: {err}", "");
        }
        if open_intent {
            println!("{:<20} started acting, no outcome recorded: re-check the resource", "");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The context and the request, with the local user as the actor; when `identify`, also
/// the AWS principal their credentials belong to (one STS call), for an audited apply.
async fn prepare(
    args: &TargetArgs,
    global: &Global,
    identify: bool,
) -> anyhow::Result<(Context, Request)> {
    let ctx = Context::from_config(global.load_config()?);
    let actor = if identify { Actor::local_user_in(&ctx).await } else { Actor::local_user() };
    let req = remediation::request(&actor, &args.resource, &args.remediation, &args.params)?;
    Ok((ctx, req))
}

fn print_plan(plan: &Plan) {
    let t = &plan.target;
    let risk = caracal_remediate::find(&plan.remediation_id)
        .map(|r| r.meta().risk.as_str())
        .unwrap_or("?");
    println!("Remediation {} on {}", plan.remediation_id, t.resource_id);
    println!(
        "  account {}, region {}, risk {risk}, fingerprint {}",
        t.account_id, t.region, plan.fingerprint
    );
    println!("  parameters {}", plan.parameters);
    if plan.is_noop() {
        println!("Nothing to do: the resource already complies.");
        return;
    }
    println!("Calls:");
    for (i, call) in plan.calls.iter().enumerate() {
        println!("  {}. {call}", i + 1);
    }
    println!("Expected changes:");
    for c in &plan.changes {
        println!("  {}: {} -> {}", c.field, c.before, c.after);
    }
}

fn print_report(report: &Report) {
    match report.outcome {
        AuditOutcome::Fixed => println!("Fixed: verified by a fresh read."),
        AuditOutcome::AlreadyCompliant => println!("Already compliant: nothing applied."),
        AuditOutcome::NotFixed => {
            println!("Applied, but a fresh read still fails: {}", report.after)
        }
        other => println!("{}", other.as_str()),
    }
    println!("Audit record {}", report.audit_id);
}

fn confirm(plan: &Plan) -> anyhow::Result<bool> {
    let mut err = std::io::stderr();
    write!(err, "Apply {} call(s) to {}? [y/N] ", plan.calls.len(), plan.target.resource_id)?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
