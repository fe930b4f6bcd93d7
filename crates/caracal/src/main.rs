//! The `caracal` binary: every command of the local, single-host mode.
//!
//! Each subcommand lives in `commands/<name>.rs` with its clap `Args` and a `run`.
//! Exit codes: 0 clean, 1 findings (or failed tests), 2 error.

mod commands;
mod posture;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Self-hosted AWS security: scan posture, fix it, and detect threats in logs
#[derive(Debug, Parser)]
#[command(name = "caracal", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Read configuration from this file instead of ./caracal.toml
    #[arg(long, short = 'c', global = true, env = "CARACAL_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// Log filter, as RUST_LOG (e.g. "info", "caracal_scan=debug")
    #[arg(long, global = true, env = "CARACAL_LOG", default_value = "warn", value_name = "FILTER")]
    log: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Snapshot AWS resources into the store and evaluate policies
    Scan(commands::scan::Args),
    /// Write stored verdicts as table, JSON, CSV, OCSF, ASFF or a framework report
    Report(commands::report::Args),
    /// Plan, apply and review fixes for failing resources
    #[command(subcommand)]
    Remediate(commands::remediate::Command),
    /// Process security logs into normalized events, run rules, open alerts
    #[command(subcommand)]
    Logs(commands::logs::Command),
    /// Describe the data lake for Athena / Glue; compact it and apply retention
    #[command(subcommand)]
    Lake(commands::lake::Command),
    /// List log sources with what they delivered; check their roles and buckets
    #[command(subcommand)]
    Sources(commands::sources::Command),
    /// List, show and triage alerts; retry their deliveries
    #[command(subcommand)]
    Alerts(commands::alerts::Command),
    /// Show how compliance changed over time
    #[command(subcommand)]
    Compliance(commands::compliance::Command),
    /// Run the embedded tests of policy and rule packs
    Test(commands::test::Args),
    /// Run the API, scheduler, queue poller and change-driven rescans
    Serve(commands::serve::Args),
    /// Create, list and revoke API tokens
    #[command(subcommand)]
    Token(commands::token::Command),
    /// Run caracal end to end against a seeded, emulated AWS account
    #[cfg(feature = "demo")]
    Demo(commands::demo::Args),
    /// Check or print configuration
    #[command(subcommand)]
    Config(commands::config::Command),
    /// Run SQL over the local data lake
    Query(commands::query::Args),
    /// Find an IP, domain, ARN, account, instance, hash, email or user in every log type
    Search(commands::search::Args),
    /// List or run the packs' scheduled queries and the scheduled rules on their rows
    #[command(subcommand)]
    Scheduled(commands::scheduled::Command),
}

fn main() -> ExitCode {
    // `caracal __python-worker`: a supervised worker process running detections for
    // this binary's engines (caracal_python::worker).
    if let Some(code) = caracal_python::worker::serve_if_requested() {
        return code;
    }
    let cli = Cli::parse();
    init_tracing(&cli.log);
    let global = commands::Global { config: cli.config };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("caracal: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Scan(args) => commands::scan::run(args, &global).await,
            Command::Report(args) => commands::report::run(args, &global).await,
            Command::Remediate(cmd) => commands::remediate::run(cmd, &global).await,
            Command::Logs(cmd) => commands::logs::run(cmd, &global).await,
            Command::Lake(cmd) => commands::lake::run(cmd, &global).await,
            Command::Sources(cmd) => commands::sources::run(cmd, &global).await,
            Command::Alerts(cmd) => commands::alerts::run(cmd, &global).await,
            Command::Compliance(cmd) => commands::compliance::run(cmd, &global).await,
            Command::Test(args) => commands::test::run(args, &global).await,
            Command::Serve(args) => commands::serve::run(args, &global).await,
            Command::Token(cmd) => commands::token::run(cmd, &global).await,
            #[cfg(feature = "demo")]
            Command::Demo(args) => commands::demo::run(args, &global).await,
            Command::Config(cmd) => commands::config::run(cmd, &global).await,
            Command::Query(args) => commands::query::run(args, &global).await,
            Command::Search(args) => commands::search::run(args, &global).await,
            Command::Scheduled(cmd) => commands::scheduled::run(cmd, &global).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("caracal: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
