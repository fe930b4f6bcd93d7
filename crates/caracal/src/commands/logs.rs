//! `caracal logs process|poll` (issue #5): read logs into normalized events, print a
//! summary per log type, optionally write the Parquet data lake. The work is
//! `caracal_app::logs`; this module maps flags and prints.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use caracal_app::{Context, LogOptions, LogPipeline, logs};
use caracal_logs::{PARSERS, PollOptions, Report};
use clap::{Args as ClapArgs, Subcommand};

use super::Global;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Process log files, folders or s3://bucket/prefix objects
    Process(ProcessArgs),
    /// Process the objects named by S3 notifications on an SQS queue
    Poll(PollArgs),
    /// List the built-in log types
    Types,
}

/// Options shared by `process` and `poll`.
#[derive(Debug, ClapArgs)]
pub struct Common {
    /// Only try these log types (repeatable; default: every built-in and custom type)
    #[arg(long = "log-type", value_name = "TYPE", help_heading = "PARSING")]
    log_types: Vec<String>,

    /// Add a custom log type from a YAML schema (repeatable)
    #[arg(long = "schema", value_name = "FILE", help_heading = "PARSING")]
    schemas: Vec<PathBuf>,

    /// Map S3 key prefixes to allowed log types and sources (YAML, or TOML if *.toml);
    /// objects under no configured prefix are errors
    #[arg(long, value_name = "FILE", conflicts_with_all = ["log_types", "source_id"], help_heading = "PARSING")]
    sources: Option<PathBuf>,

    /// Write Parquet partitions under this folder or s3://bucket/prefix
    #[arg(long, value_name = "DIR|S3_URL", help_heading = "OUTPUT")]
    lake: Option<String>,

    /// The p_source_id (and label) of the events
    #[arg(long, value_name = "ID", default_value = "cli", help_heading = "OUTPUT")]
    source_id: String,

    /// Print up to this many record errors in full
    #[arg(long, value_name = "N", default_value_t = 10, help_heading = "OUTPUT")]
    show_errors: usize,
}

#[derive(Debug, ClapArgs)]
pub struct ProcessArgs {
    /// Files, folders (read recursively) or s3://bucket/prefix
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,

    /// When the lake cannot be written, keep the buffered rows here as Parquet
    /// (same layout) instead [default: ./caracal-lake-rescue/<time>]
    #[arg(long, value_name = "DIR", help_heading = "OUTPUT")]
    rescue_dir: Option<PathBuf>,

    #[command(flatten)]
    common: Common,
}

#[derive(Debug, ClapArgs)]
pub struct PollArgs {
    /// The SQS queue URL
    #[arg(long, value_name = "URL")]
    queue: String,

    /// Stop when the queue is empty instead of polling forever
    #[arg(long)]
    once: bool,

    /// Seconds a received message stays hidden (renewed while its objects are processed)
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    visibility_timeout: u32,

    #[command(flatten)]
    common: Common,
}

pub async fn run(cmd: Command, global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Types => {
            for p in PARSERS {
                println!("{}", p.log_type());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Process(args) => process(args, global).await,
        Command::Poll(args) => poll(args, global).await,
    }
}

impl Common {
    fn pipeline(&self) -> anyhow::Result<LogPipeline> {
        Ok(LogPipeline::new(LogOptions {
            log_types: self.log_types.clone(),
            schemas: self.schemas.clone(),
            sources: self.sources.clone(),
            lake: self.lake.clone(),
            source_id: self.source_id.clone(),
        })?)
    }
}

async fn process(args: ProcessArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let pipeline = args.common.pipeline()?;
    let ctx = Context::from_config(global.load_config()?);
    let mut sink = pipeline.lake(&ctx).await?;
    let rescue_dir = args.rescue_dir.clone().unwrap_or_else(|| {
        let now = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        PathBuf::from(format!("caracal-lake-rescue/{now}"))
    });
    let started = Instant::now();
    let report =
        logs::process_paths(&ctx, &pipeline, &args.paths, sink.as_mut(), &rescue_dir).await?;
    print_summary(&report, started.elapsed().as_secs_f64(), args.common.show_errors);
    Ok(if report.errors > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

async fn poll(args: PollArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let pipeline = args.common.pipeline()?;
    let ctx = Context::from_config(global.load_config()?);
    let mut sink = pipeline.lake(&ctx).await?;
    let started = Instant::now();
    let options = PollOptions {
        visibility_timeout: args.visibility_timeout,
        until_empty: args.once,
        ..Default::default()
    };
    let outcome = logs::poll(&ctx, &pipeline, &args.queue, &options, sink.as_mut()).await?;
    print_summary(&outcome.report, started.elapsed().as_secs_f64(), args.common.show_errors);
    println!("messages: {} deleted, {} kept for retry", outcome.deleted, outcome.failed.len());
    for failure in &outcome.failed {
        eprintln!("caracal: {failure}");
    }
    Ok(if outcome.report.errors > 0 || !outcome.failed.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_summary(report: &Report, secs: f64, show_errors: usize) {
    let secs = secs.max(1e-9);
    println!(
        "{:<24} {:>10} {:>10} {:>8} {:>12} {:>12}",
        "LOG TYPE", "RECORDS", "EVENTS", "ERRORS", "BYTES", "EVENTS/S"
    );
    for (log_type, t) in &report.by_type {
        println!(
            "{:<24} {:>10} {:>10} {:>8} {:>12} {:>12.0}",
            log_type,
            t.events + t.errors,
            t.events,
            t.errors,
            t.bytes,
            t.events as f64 / secs
        );
    }
    println!(
        "{:<24} {:>10} {:>10} {:>8} {:>12} {:>12.0}",
        "TOTAL",
        report.records,
        report.events,
        report.errors,
        report.bytes,
        report.events as f64 / secs
    );
    println!(
        "objects: {}, lines: {}, skipped (blank, headers, digests): {}, {:.2}s",
        report.objects, report.lines, report.skipped, secs
    );
    for err in report.first_errors.iter().take(show_errors) {
        eprintln!("error: {err}");
    }
}
