//! `caracal logs process|poll` (issue #5): read logs into normalized events, print a
//! summary per log type, optionally write the Parquet data lake. The work is
//! `caracal_app::logs`; this module maps flags and prints.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use caracal_app::{Context, LogOptions, LogPipeline, Outputs, alerts, logs};
use caracal_core::Config;
use caracal_core::config::RulesConfig;
use caracal_detect::RuleSource;
use caracal_logs::{Catalog, PollOptions, Report, TypeSource};
use clap::{Args as ClapArgs, Subcommand};

use super::Global;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Process log files, folders or s3://bucket/prefix objects
    Process(ProcessArgs),
    /// Process the objects named by S3 notifications on an SQS queue
    Poll(PollArgs),
    /// List every log type with where it comes from (native, bundled schema, user schema)
    Types(TypesArgs),
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

    /// Run the rule pack in DIR on every event (repeatable)
    ///
    /// Default: `[rules] paths` of caracal.toml (./rules); a missing default folder runs
    /// no rules. Alerts go to the store and the configured `[[destinations]]`.
    #[arg(long = "rules", value_name = "DIR", help_heading = "RULES")]
    rules: Vec<PathBuf>,

    /// Run no rules: only parse (and write the lake)
    #[arg(long, conflicts_with = "rules", help_heading = "RULES")]
    no_rules: bool,

    /// Run only the rules this pack names (a PackID; repeatable)
    #[arg(long = "pack", value_name = "ID", conflicts_with = "no_rules", help_heading = "RULES")]
    packs: Vec<String>,
}

#[derive(Debug, ClapArgs)]
pub struct TypesArgs {
    /// Add a custom log type from a YAML schema (repeatable)
    #[arg(long = "schema", value_name = "FILE")]
    schemas: Vec<PathBuf>,
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
        Command::Types(args) => {
            let catalog = Catalog::load(&args.schemas)?;
            let entries = catalog.entries();
            println!("{:<44} SOURCE", "LOG TYPE");
            for (parser, source) in &entries {
                println!("{:<44} {}", parser.log_type(), source.as_str());
            }
            let count = |s: TypeSource| entries.iter().filter(|(_, t)| *t == s).count();
            println!(
                "{} log types: {} native, {} bundled schemas, {} user schemas",
                entries.len(),
                count(TypeSource::Native),
                count(TypeSource::Bundled),
                count(TypeSource::User)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Process(args) => process(args, global).await,
        Command::Poll(args) => poll(args, global).await,
    }
}

impl Common {
    fn pipeline(&self, config: &Config) -> anyhow::Result<LogPipeline> {
        Ok(LogPipeline::new(LogOptions {
            log_types: self.log_types.clone(),
            schemas: self.schemas.clone(),
            sources: self.sources.clone(),
            lake: self.lake.clone(),
            source_id: self.source_id.clone(),
            rules: self.rule_source(config)?,
            batch_size: 0,
        })?)
    }

    /// `--rules`, else the configured folders; the implicit default `./rules` may be
    /// missing (no rules run), a named or configured folder may not.
    fn rule_source(&self, config: &Config) -> anyhow::Result<Option<RuleSource>> {
        if self.no_rules {
            return Ok(None);
        }
        let explicit = !self.rules.is_empty();
        let paths = if explicit { self.rules.clone() } else { config.rules.paths.clone() };
        let is_default = !explicit && paths == RulesConfig::default().paths;
        if paths.is_empty() || (is_default && !paths.iter().all(|p| p.is_dir())) {
            return Ok(None);
        }
        if let Some(missing) = paths.iter().find(|p| !p.is_dir()) {
            anyhow::bail!("rule folder {} does not exist", missing.display());
        }
        let mut source = RuleSource::configured(paths, &config.rules);
        if !self.packs.is_empty() {
            source.packs = self.packs.clone();
        }
        Ok(Some(source))
    }
}

async fn process(args: ProcessArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let config = global.load_config()?;
    let pipeline = args.common.pipeline(&config)?;
    let ctx = Context::from_config(config);
    let mut sink = pipeline.open(&ctx).await?;
    let rescue_dir = args.rescue_dir.clone().unwrap_or_else(|| {
        let now = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        PathBuf::from(format!("caracal-lake-rescue/{now}"))
    });
    let started = Instant::now();
    let report = logs::process_paths(&ctx, &pipeline, &args.paths, &mut sink, &rescue_dir).await?;
    print_summary(&report, started.elapsed().as_secs_f64(), args.common.show_errors);
    print_alerts(&ctx, &sink).await?;
    Ok(if report.errors > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

async fn poll(args: PollArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let config = global.load_config()?;
    let pipeline = args.common.pipeline(&config)?;
    let ctx = Context::from_config(config);
    let mut sink = pipeline.open(&ctx).await?;
    let started = Instant::now();
    let options = PollOptions {
        visibility_timeout: args.visibility_timeout,
        until_empty: args.once,
        ..Default::default()
    };
    let outcome = logs::poll(&ctx, &pipeline, &args.queue, &options, &mut sink).await?;
    print_summary(&outcome.report, started.elapsed().as_secs_f64(), args.common.show_errors);
    print_alerts(&ctx, &sink).await?;
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

/// The alerts this run opened or added to, and the deliveries still pending.
pub(crate) async fn print_alerts(ctx: &Context, outputs: &Outputs) -> anyhow::Result<()> {
    let Some(summary) = outputs.summary() else { return Ok(()) };
    println!(
        "rules: {} events, {} matches ({} signals), {} rule errors; alerts: {} opened, {} updated, {} matches below threshold",
        summary.events,
        summary.matches,
        summary.signals,
        summary.rule_errors,
        summary.opened.len(),
        summary.updated.len(),
        summary.below_threshold
    );
    let ids = summary
        .opened
        .iter()
        .map(|id| (id, "opened"))
        .chain(summary.updated.iter().map(|id| (id, "updated")));
    let mut rows = Vec::new();
    for (id, what) in ids {
        if let Some(alert) = alerts::get(ctx, id).await? {
            rows.push((alert, what));
        }
    }
    if !rows.is_empty() {
        rows.sort_by(|a, b| {
            b.0.severity.cmp(&a.0.severity).then_with(|| a.0.rule_id.cmp(&b.0.rule_id))
        });
        println!(
            "\n{:<8} {:<32} {:<9} {:>6}  {:<44} TITLE",
            "", "ALERT", "SEVERITY", "EVENTS", "RULE"
        );
        for (a, what) in &rows {
            println!(
                "{what:<8} {:<32} {:<9} {:>6}  {:<44} {}",
                a.id,
                a.severity.as_str(),
                a.event_count,
                a.rule_id,
                a.title
            );
        }
    }
    if let Some(deliveries) = outputs.deliveries() {
        if deliveries.delivered > 0 || !deliveries.pending.is_empty() {
            println!(
                "deliveries: {} delivered, {} pending (retried on the next run or `caracal alerts deliver`)",
                deliveries.delivered,
                deliveries.pending.len()
            );
        }
        for pending in &deliveries.pending {
            eprintln!("caracal: delivery pending: {pending}");
        }
    }
    Ok(())
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
    if !report.unclassified.is_empty() {
        let per: Vec<String> =
            report.unclassified.iter().map(|(source, n)| format!("{source}: {n}")).collect();
        println!("unclassified records by source: {}", per.join(", "));
    }
    for err in report.first_errors.iter().take(show_errors) {
        eprintln!("error: {err}");
    }
}
