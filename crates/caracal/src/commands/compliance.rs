//! `caracal compliance history`: the verdict changes stored by scans and evaluations
//! (#16), for one resource, one policy, or everything, newest first.

use std::process::ExitCode;

use anyhow::Context as _;
use caracal_app::Context;
use caracal_store::TransitionQuery;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use super::Global;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show verdict changes (new FAIL, FAIL → PASS, → ERROR, deleted), newest first
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this resource (its ResourceId)
    #[arg(value_name = "RESOURCE")]
    resource: Option<String>,

    /// Only this policy
    #[arg(long, value_name = "POLICY_ID")]
    policy: Option<String>,

    /// Only changes at or after this time: RFC 3339, or an age such as 7d, 12h, 30m
    #[arg(long, value_name = "TIME", value_parser = caracal_core::time::parse_since)]
    since: Option<DateTime<Utc>>,

    /// At most this many
    #[arg(long, default_value_t = 100, help_heading = "OUTPUT")]
    limit: usize,

    /// Print JSON instead of a table
    #[arg(long, help_heading = "OUTPUT")]
    json: bool,
}

pub async fn run(cmd: Command, global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::History(args) => history(&args, global).await,
    }
}

async fn history(args: &HistoryArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let ctx = Context::from_config(global.load_config()?);
    let store = ctx.store().await?;
    let query = TransitionQuery {
        resource_id: args.resource.clone(),
        policy_id: args.policy.clone(),
        since: args.since,
        limit: args.limit,
    };
    let transitions =
        store.compliance().transitions(&query).await.context("reading compliance history")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&transitions)?);
        return Ok(ExitCode::SUCCESS);
    }
    if transitions.is_empty() {
        eprintln!("No compliance changes match.");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<20} {:<18} {:<9} {:<40} {:<26} RESOURCE",
        "TIME", "CHANGE", "SEVERITY", "POLICY", "SCAN"
    );
    for t in &transitions {
        println!(
            "{:<20} {:<18} {:<9} {:<40} {:<26} {}",
            t.at.format("%Y-%m-%d %H:%M:%S"),
            t.describe(),
            t.severity,
            t.policy_id,
            t.scan_id.as_deref().unwrap_or("-"),
            t.resource_id
        );
        if let Some(message) = t.to.as_ref().and_then(|s| s.message()) {
            println!("{:<20} error: {message}", "");
        }
    }
    Ok(ExitCode::SUCCESS)
}
