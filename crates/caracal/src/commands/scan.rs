//! `caracal scan`: snapshot AWS resources into the store and print what changed.
//!
//! Steps: load config → open the store and one AWS session per account → scan
//! (`caracal_scan::Scanner`) → print the summary → evaluate the policy packs on the
//! snapshots the scan wrote (`crate::posture`) → print failing findings.
//! Exit: 0 clean, 1 failing findings, 2 scan errors or any other error.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use caracal_aws::{Aws, Purpose, Session};
use caracal_core::Config;
use caracal_core::config::StoreBackend;
use caracal_scan::{Progress, ScanOutcome, ScanRequest, Scanner};
use caracal_store::Store;

use super::Global;
use crate::posture::{self, PolicySource};

/// Output format of the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// One line per resource type, then errors.
    Table,
    /// The scan report as JSON.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scan only this account id (repeatable)
    ///
    /// Must be one of the `[[accounts]]` in caracal.toml, or the credentials' own account.
    /// Default: every configured account, or the credentials' account when none are.
    #[arg(long = "account", value_name = "ID", help_heading = "SCOPE")]
    accounts: Vec<String>,

    /// Scan only this region (repeatable); `global` for IAM and account-wide types
    ///
    /// Default: the `[aws] regions` plus the global types. When regions are named, global
    /// types run only if `global` is one of them.
    #[arg(long = "region", value_name = "REGION", help_heading = "SCOPE")]
    regions: Vec<String>,

    /// Scan only this resource type (repeatable), such as AWS.S3.Bucket
    ///
    /// Default: `[scan] types`, or every type when that is empty.
    #[arg(long = "type", value_name = "TYPE", help_heading = "SCOPE")]
    types: Vec<String>,

    /// Print the summary as a table or as JSON
    #[arg(long, value_enum, default_value_t = Output::Table, help_heading = "OUTPUT")]
    output: Output,

    /// Never draw a progress bar, even on a terminal
    #[arg(long, help_heading = "OUTPUT")]
    no_progress: bool,

    /// Evaluate the policy pack in DIR (repeatable)
    ///
    /// Default: `[policies] paths` of caracal.toml, which defaults to ./policies.
    #[arg(long = "policies", value_name = "DIR", help_heading = "POLICIES")]
    policies: Vec<PathBuf>,

    /// Only snapshot resources; evaluate no policies
    #[arg(long, conflicts_with = "policies", help_heading = "POLICIES")]
    no_policies: bool,

    /// Import third-party modules of policies from this virtualenv
    ///
    /// Default: `[policies] venv` of caracal.toml. `caracal test --venv DIR
    /// --install-requirements FILE` creates and fills one.
    #[arg(long, value_name = "DIR", conflicts_with = "no_policies", help_heading = "POLICIES")]
    venv: Option<PathBuf>,

    /// Evaluate only the policies this pack names (a PackID; repeatable)
    ///
    /// Default: `[policies] packs` of caracal.toml; empty means every policy.
    #[arg(
        long = "pack",
        value_name = "ID",
        conflicts_with = "no_policies",
        help_heading = "POLICIES"
    )]
    packs: Vec<String>,
}

pub async fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let config = global.load_config()?;
    let request = ScanRequest {
        regions: args.regions.clone(),
        types: if args.types.is_empty() { config.scan.types.clone() } else { args.types.clone() },
    };
    let aws = Aws::builder(&config.aws).build().await?;
    let sessions = open_sessions(&aws, &config, &args.accounts).await?;
    let store = open_store(&config, &aws).await?;
    let progress = progress(args.no_progress);
    let outcome = scan(&store, &config, &sessions, &request, &*progress).await?;
    progress.finish();

    let policy_paths = policy_paths(&args, &config)?;
    let evaluation = if policy_paths.is_empty() {
        None
    } else {
        let mut source = PolicySource::configured(policy_paths, &config.policies);
        if args.venv.is_some() {
            source.venv = args.venv.clone();
        }
        if !args.packs.is_empty() {
            source.packs = args.packs.clone();
        }
        Some(posture::evaluate(&store, outcome.resources.clone(), source).await?)
    };

    match args.output {
        Output::Table => {
            print_table(&outcome);
            if let Some(evaluation) = &evaluation {
                println!();
                posture::print_findings(&mut std::io::stdout().lock(), evaluation)?;
            }
        }
        Output::Json => {
            let findings = evaluation.as_ref().map(|e| &e.findings);
            let json = serde_json::json!({ "report": &outcome.report, "findings": findings });
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
    }
    let failing = evaluation.as_ref().is_some_and(|e| !e.reportable().is_empty());
    Ok(if !outcome.report.errors.is_empty() {
        ExitCode::from(2)
    } else if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The packs to evaluate: `--policies`, else the configured paths. A configured folder
/// that does not exist is an error, except the implicit default `./policies`, which is
/// skipped with a warning so `caracal scan` works from any directory.
fn policy_paths(args: &Args, config: &Config) -> anyhow::Result<Vec<PathBuf>> {
    if args.no_policies {
        return Ok(Vec::new());
    }
    let explicit = !args.policies.is_empty();
    let paths = if explicit { args.policies.clone() } else { config.policies.paths.clone() };
    let is_default = !explicit && paths == caracal_core::config::PoliciesConfig::default().paths;
    if is_default && !paths.iter().all(|p| p.is_dir()) {
        eprintln!(
            "caracal: no ./policies folder here: evaluating no policies (use --policies DIR)"
        );
        return Ok(Vec::new());
    }
    if let Some(missing) = paths.iter().find(|p| !p.is_dir()) {
        anyhow::bail!("policy folder {} does not exist", missing.display());
    }
    Ok(paths)
}

/// Runs one scan with the configured concurrency.
pub async fn scan(
    store: &Arc<dyn Store>,
    config: &Config,
    sessions: &[Session],
    request: &ScanRequest,
    progress: &dyn Progress,
) -> anyhow::Result<ScanOutcome> {
    Ok(Scanner::new(Arc::clone(store), config.scan.concurrency)
        .scan(sessions, request, progress)
        .await?)
}

/// One session per account to scan: the configured `[[accounts]]` (filtered by `only`),
/// or the credentials' own account when none are configured.
pub async fn open_sessions(
    aws: &Aws,
    config: &Config,
    only: &[String],
) -> anyhow::Result<Vec<Session>> {
    let mut sessions = Vec::new();
    if config.accounts.is_empty() {
        let session = aws.session(None, Purpose::Scan).await?;
        if !only.is_empty() && !only.iter().any(|a| a == session.account_id()) {
            anyhow::bail!(
                "account {} is not configured; the credentials belong to {}",
                only.join(", "),
                session.account_id()
            );
        }
        sessions.push(session);
    } else {
        for id in only {
            if !config.accounts.iter().any(|a| &a.id == id) {
                anyhow::bail!("account {id} is not in [[accounts]] of the configuration");
            }
        }
        for account in &config.accounts {
            if only.is_empty() || only.contains(&account.id) {
                sessions.push(aws.session(Some(account), Purpose::Scan).await?);
            }
        }
    }
    Ok(sessions)
}

/// Opens the configured store; DynamoDB uses a client from the home region (or
/// `store.dynamodb.region`, and `store.dynamodb.endpoint_url` when set), built by caracal-aws.
pub async fn open_store(config: &Config, aws: &Aws) -> anyhow::Result<Arc<dyn Store>> {
    let dynamo = match config.store.backend {
        StoreBackend::Sqlite => None,
        StoreBackend::Dynamodb => {
            let session = aws.session(None, Purpose::Scan).await?;
            let region = config.store.dynamodb.region.as_deref().unwrap_or(aws.home_region());
            let mut clients = session.clients(region);
            if let Some(url) = &config.store.dynamodb.endpoint_url {
                clients = clients.with_endpoint_url(url);
            }
            Some(clients.dynamodb())
        }
    };
    let store = caracal_store::open(&config.store, dynamo).await.context("opening the store")?;
    store.create_tables().await.with_context(|| format!("preparing {}", store.describe()))?;
    Ok(store)
}

/// A progress bar on a terminal, a log line per finished task otherwise.
trait Finish: Progress {
    fn finish(&self) {}
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn start(&self, tasks: u64) {
        self.0.set_length(tasks);
    }
    fn task_done(&self, _account_id: &str, region: &str, resource_type: &str) {
        self.0.set_message(format!("{resource_type} {region}"));
        self.0.inc(1);
    }
}

impl Finish for Bar {
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

#[derive(Default)]
struct Lines {
    total: std::sync::atomic::AtomicU64,
    done: std::sync::atomic::AtomicU64,
}

impl Progress for Lines {
    fn start(&self, tasks: u64) {
        self.total.store(tasks, std::sync::atomic::Ordering::Relaxed);
        eprintln!("scan: {tasks} tasks (account × region × type)");
    }
    fn task_done(&self, account_id: &str, region: &str, resource_type: &str) {
        let done = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let total = self.total.load(std::sync::atomic::Ordering::Relaxed);
        eprintln!("scan: [{done}/{total}] {account_id} {region} {resource_type}");
    }
}

impl Finish for Lines {}

fn progress(disabled: bool) -> Box<dyn Finish> {
    if disabled || !std::io::stderr().is_terminal() {
        return Box::new(Lines::default());
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} scanning [{bar:30}] {pos}/{len} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Box::new(Bar(bar))
}

fn print_table(outcome: &ScanOutcome) {
    let report = &outcome.report;
    println!(
        "{:<28} {:>7} {:>6} {:>8} {:>8} {:>7}",
        "TYPE", "SEEN", "NEW", "CHANGED", "DELETED", "ERRORS"
    );
    for (t, s) in &report.types {
        println!(
            "{t:<28} {:>7} {:>6} {:>8} {:>8} {:>7}",
            s.seen, s.new, s.changed, s.deleted, s.errors
        );
    }
    let t = report.totals();
    println!(
        "{:<28} {:>7} {:>6} {:>8} {:>8} {:>7}",
        "TOTAL", t.seen, t.new, t.changed, t.deleted, t.errors
    );
    println!("{} AWS requests in {:.1} s", report.requests, report.duration_ms as f64 / 1000.0);
    if !report.errors.is_empty() {
        println!("\nErrors (nothing in these scopes was marked deleted):");
        for e in &report.errors {
            println!(
                "  {} {} {} {}: {}",
                e.account_id, e.region, e.resource_type, e.operation, e.message
            );
        }
    }
}
