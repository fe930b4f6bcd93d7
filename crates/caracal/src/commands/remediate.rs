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
    #[command(flatten)]
    target: TargetArgs,

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
    let (ctx, req) = prepare(args, global)?;
    let plan = remediation::plan(&ctx, &req).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print_plan(&plan);
    }
    Ok(if plan.is_noop() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn apply(args: &ApplyArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let t = &args.target;
    let (ctx, req) = prepare(t, global)?;
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
    println!("{:<20} {:<17} {:<12} {:<40} RESOURCE", "TIME", "OUTCOME", "ACTOR", "REMEDIATION");
    for r in &records {
        println!(
            "{:<20} {:<17} {:<12} {:<40} {}",
            r.at.format("%Y-%m-%d %H:%M:%S"),
            r.outcome.as_str(),
            r.actor,
            r.remediation_id,
            r.resource_id
        );
        if let Some(err) = &r.error {
            println!("{:<20} error: {err}", "");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The context and the request, with the local user as the actor.
fn prepare(args: &TargetArgs, global: &Global) -> anyhow::Result<(Context, Request)> {
    let ctx = Context::from_config(global.load_config()?);
    let req = remediation::request(
        &Actor::local_user(),
        &args.resource,
        &args.remediation,
        &args.params,
    )?;
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
