//! `caracal sources list|check` (issue #19 item 4): each configured log source with the
//! last object it delivered, its events and errors in the last hour and day, and (check)
//! whether its role, bucket and KMS key work. The work is `caracal_app::sources`; this
//! module maps flags and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use caracal_app::sources::{self, Health, SourceStatus};
use caracal_app::{Context, LogOptions, LogPipeline};
use clap::{Args as ClapArgs, Subcommand};

use super::Global;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show each source's settings and what it delivered (no AWS calls)
    List(Args),
    /// Also check each source's role, bucket and KMS key; exit 1 when one fails or is silent
    Check(Args),
}

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The sources file (YAML, or TOML if *.toml)
    #[arg(long, value_name = "FILE", default_value = "sources.yml")]
    sources: PathBuf,

    /// Custom log types the sources file names (repeatable)
    #[arg(long = "schema", value_name = "FILE")]
    schemas: Vec<PathBuf>,

    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

/// Runs `caracal sources ...`.
pub async fn run(command: Command, global: &Global) -> anyhow::Result<ExitCode> {
    let (args, checking) = match command {
        Command::List(args) => (args, false),
        Command::Check(args) => (args, true),
    };
    let ctx = Context::from_config(global.load_config()?);
    let pipeline = LogPipeline::new(LogOptions {
        schemas: args.schemas.clone(),
        sources: Some(args.sources.clone()),
        ..LogOptions::default()
    })?;
    let Some(file) = pipeline.sources_file()? else { return Ok(ExitCode::SUCCESS) };
    let statuses = if checking {
        sources::check(&ctx, &file).await?
    } else {
        sources::list(&ctx, &file).await?
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&statuses)?);
    } else {
        for status in &statuses {
            print_status(status);
        }
    }
    let failing = statuses.iter().filter(|s| !s.healthy()).count();
    if checking && failing > 0 {
        eprintln!("caracal: {failing} of {} sources need attention", statuses.len());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_status(s: &SourceStatus) {
    println!("{} ({})", s.id, s.name);
    let account = s.account.as_deref().unwrap_or("-");
    println!("  bucket      s3://{}  account {account}", s.bucket);
    for (prefix, types) in &s.prefixes {
        println!("  prefix      {:?} → {}", prefix, types.join(", "));
    }
    if let Some(role) = &s.role_arn {
        println!("  role        {role}");
    }
    if let Some(key) = &s.kms_key {
        println!("  kms key     {key}");
    }
    match &s.activity.last_object {
        Some(last) => println!("  last object {} at {}", last.object, last.at.to_rfc3339()),
        None => println!("  last object none recorded"),
    }
    let a = &s.activity;
    println!(
        "  last hour   {} events, {} errors; last day {} events, {} errors",
        a.events_hour, a.errors_hour, a.events_day, a.errors_day
    );
    if s.silent {
        println!("  SILENT      no object within its expected interval");
    }
    for (what, health) in [("role", &s.role), ("bucket", &s.bucket_readable), ("kms", &s.kms)] {
        match health {
            Some(Health::Ok) => println!("  {what:<11} ok"),
            Some(Health::Failed(why)) => println!("  {what:<11} FAILED: {why}"),
            Some(Health::NotSet) | None => {}
        }
    }
}
