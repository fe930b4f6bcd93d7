//! `caracal logs process|poll` (issue #5): read logs into normalized events, print a
//! summary per log type, optionally write the Parquet data lake.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use caracal_logs::s3::{S3Lake, S3Store, SqsQueue, parse_s3_url};
use caracal_logs::{
    CustomParser, Discard, EventSink, LakeConfig, LakeWriter, LocalLake, PARSERS, Parser,
    PollOptions, Processor, Report, Router, SourceInfo, SourcesFile, process_path,
};
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

/// Clients for the caller's account and home region, from `[aws]` in the config.
async fn clients(global: &Global) -> anyhow::Result<caracal_aws::Clients> {
    let config = global.load_config()?;
    let aws = caracal_aws::Aws::builder(&config.aws).build().await.context("configuring AWS")?;
    let session =
        aws.session(None, caracal_aws::Purpose::Scan).await.context("resolving the AWS account")?;
    Ok(session.home())
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

/// The built-in parsers plus custom schemas, filtered by `--log-type`.
fn candidates<'a>(
    common: &Common,
    custom: &'a [CustomParser],
) -> anyhow::Result<Vec<&'a dyn Parser>> {
    let all: Vec<&dyn Parser> =
        PARSERS.iter().copied().chain(custom.iter().map(|c| c as &dyn Parser)).collect();
    if common.log_types.is_empty() {
        return Ok(all);
    }
    common
        .log_types
        .iter()
        .map(|t| {
            all.iter()
                .copied()
                .find(|p| p.log_type() == t)
                .ok_or_else(|| anyhow::anyhow!("unknown log type {t:?}"))
        })
        .collect()
}

/// One processor for every object, or with `--sources` one per configured prefix.
fn router<'a>(common: &Common, custom: &'a [CustomParser]) -> anyhow::Result<Router<'a>> {
    let Some(path) = &common.sources else {
        let source = SourceInfo::new(&common.source_id, &common.source_id);
        return Ok(Processor::new(candidates(common, custom)?, source).into());
    };
    let all: Vec<&dyn Parser> =
        PARSERS.iter().copied().chain(custom.iter().map(|c| c as &dyn Parser)).collect();
    let sources = SourcesFile::load(path, &all)?;
    Ok(Router::from_sources(&sources, &all)?)
}

fn load_schemas(common: &Common) -> anyhow::Result<Vec<CustomParser>> {
    common.schemas.iter().map(|p| CustomParser::from_file(p).map_err(anyhow::Error::from)).collect()
}

/// The data lake from `--lake`: a local folder, or a bucket and prefix for `s3://` URLs.
async fn sink(common: &Common, global: &Global) -> anyhow::Result<Box<dyn EventSink>> {
    let Some(lake) = &common.lake else { return Ok(Box::new(Discard)) };
    if !lake.starts_with("s3://") {
        return Ok(Box::new(LakeWriter::new(LocalLake::new(lake), LakeConfig::default())));
    }
    let (bucket, prefix) = parse_s3_url(lake)
        .with_context(|| format!("--lake {lake}: expected s3://bucket/prefix"))?;
    let store = S3Lake::new(clients(global).await?.s3(), bucket, prefix);
    Ok(Box::new(LakeWriter::new(store, LakeConfig::default())))
}

async fn process(args: ProcessArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let custom = load_schemas(&args.common)?;
    if args.common.sources.is_some()
        && let Some(local) = args.paths.iter().find(|p| !p.starts_with("s3://"))
    {
        anyhow::bail!("--sources routes s3:// objects by key prefix; {local} is not one");
    }
    let mut router = router(&args.common, &custom)?;
    let mut sink = sink(&args.common, global).await?;
    let started = Instant::now();
    let mut report = Report::default();
    if let Err(err) = process_all(&args, global, &mut router, sink.as_mut(), &mut report).await {
        // What was read is kept: in the lake when it takes it, else in the rescue folder.
        if tokio::task::block_in_place(|| sink.flush()).is_ok() {
            return Err(err);
        }
        let folder = args.rescue_dir.clone().unwrap_or_else(|| {
            let now = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
            PathBuf::from(format!("caracal-lake-rescue/{now}"))
        });
        match tokio::task::block_in_place(|| sink.rescue(&folder)) {
            Ok(files) if files.is_empty() => {}
            Ok(files) => eprintln!(
                "caracal: the lake was not written; {} Parquet file(s) of buffered events kept under {}",
                files.len(),
                folder.display()
            ),
            Err(rescue_err) => eprintln!(
                "caracal: the buffered events could not be kept under {}: {rescue_err}",
                folder.display()
            ),
        }
        return Err(err);
    }
    print_summary(&report, started.elapsed().as_secs_f64(), args.common.show_errors);
    Ok(if report.errors > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Reads every path of `args` into `sink` and flushes it.
async fn process_all(
    args: &ProcessArgs,
    global: &Global,
    router: &mut Router<'_>,
    sink: &mut dyn EventSink,
    report: &mut Report,
) -> anyhow::Result<()> {
    for path in &args.paths {
        if let Some(rest) = path.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let store = S3Store::new(clients(global).await?.s3());
            let r = caracal_logs::poll::process_prefix(router, &store, bucket, prefix, sink)
                .await
                .with_context(|| format!("processing {path}"))?;
            report.merge(r);
        } else {
            let processor = router
                .single()
                .context("--sources routes s3:// objects only; local paths are not routed")?;
            let r = tokio::task::block_in_place(|| process_path(processor, path.as_ref(), sink))
                .with_context(|| format!("processing {path}"))?;
            report.merge(r);
        }
    }
    tokio::task::block_in_place(|| sink.flush()).context("writing the data lake")
}

async fn poll(args: PollArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let custom = load_schemas(&args.common)?;
    let mut router = router(&args.common, &custom)?;
    let mut sink = sink(&args.common, global).await?;
    let started = Instant::now();
    let options = PollOptions {
        visibility_timeout: args.visibility_timeout,
        until_empty: args.once,
        ..Default::default()
    };
    let clients = clients(global).await?;
    let store = S3Store::new(clients.s3());
    let queue = SqsQueue::new(clients.sqs(), &args.queue);
    let outcome = caracal_logs::poll(&mut router, &store, &queue, &options, sink.as_mut())
        .await
        .with_context(|| format!("polling {}", args.queue))?;
    tokio::task::block_in_place(|| sink.flush()).context("writing the data lake")?;
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
