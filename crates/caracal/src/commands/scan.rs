//! `caracal scan`: snapshot AWS resources into the store and print what changed.
//!
//! A thin adapter over `caracal_app::posture::scan_and_evaluate`: flags → scope and
//! policy source → scan and evaluate → print the summary and the failing findings.
//! Exit: 0 clean, 1 failing findings, 2 scan errors or any other error.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use caracal_app::report::{self, ReportData};
use caracal_app::{Context, PolicySource, ScanScope, posture};
use caracal_core::Config;
use caracal_scan::{Progress, ScanOutcome, ScanRequest};

use super::Global;

/// Output format of the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// One line per resource type, then errors.
    Table,
    /// The scan report as JSON.
    Json,
    /// This scan's findings as CSV.
    Csv,
    /// This scan's findings as OCSF Compliance Findings (class 2003), one per line.
    Ocsf,
    /// This scan's findings in AWS Security Finding Format (a BatchImportFindings body).
    Asff,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scan only this account id (repeatable)
    ///
    /// Must be one of the `[[accounts]]` in caracal.toml, or the credentials' own account.
    /// Default: every configured account, or the credentials' account when none are.
    #[arg(long = "account", value_name = "ID", help_heading = "SCOPE")]
    accounts: Vec<String>,

    /// Scan only this region (repeatable); `global` alone for only IAM and account-wide types
    ///
    /// Default: the `[aws] regions`. Global types (IAM, the password policy, ...) run once
    /// per account whatever regions are named; leave them out by naming `--type`s.
    #[arg(long = "region", value_name = "REGION", help_heading = "SCOPE")]
    regions: Vec<String>,

    /// Scan only this resource type (repeatable), such as AWS.S3.Bucket
    ///
    /// Default: `[scan] types`, or every type when that is empty.
    #[arg(long = "type", value_name = "TYPE", help_heading = "SCOPE")]
    types: Vec<String>,

    /// Print the summary as a table or JSON, or the findings as CSV, OCSF or ASFF
    ///
    /// csv, ocsf and asff print only this scan's findings (with their policies' metadata),
    /// as `caracal report --format` does for every stored finding.
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
    let policies = policy_source(&args, &config)?;
    let scope = ScanScope {
        accounts: args.accounts.clone(),
        request: ScanRequest {
            regions: args.regions.clone(),
            types: if args.types.is_empty() {
                config.scan.types.clone()
            } else {
                args.types.clone()
            },
        },
    };
    let ctx = Arc::new(Context::from_config(config));
    let progress = progress(args.no_progress);
    let result = posture::scan_and_evaluate(&ctx, &scope, policies.as_ref(), &*progress).await;
    progress.finish();
    let result = result?;
    if let Some(evaluation) = &result.evaluation {
        crate::posture::print_invalid(evaluation);
    }

    let outcome = &result.outcome;
    match args.output {
        Output::Table => {
            print_table(outcome);
            if let Some(evaluation) = &result.evaluation {
                println!();
                crate::posture::print_findings(&mut std::io::stdout().lock(), evaluation)?;
            }
        }
        Output::Json => {
            let findings = result.evaluation.as_ref().map(|e| &e.findings);
            let json = serde_json::json!({ "report": &outcome.report, "findings": findings });
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        Output::Csv | Output::Ocsf | Output::Asff => {
            let format = match args.output {
                Output::Csv => report::Format::Csv,
                Output::Ocsf => report::Format::Ocsf,
                _ => report::Format::Asff,
            };
            let (policies, findings) = match (&result.evaluation, &policies) {
                (Some(evaluation), Some(source)) => {
                    let source = source.clone();
                    let policies =
                        tokio::task::spawn_blocking(move || report::load_policies(&source))
                            .await??;
                    (policies, evaluation.findings.clone())
                }
                _ => Default::default(),
            };
            let data = ReportData::new(policies, findings, outcome.resources.iter().cloned());
            let region = if format == report::Format::Asff {
                ctx.aws().await?.home_region().to_owned()
            } else {
                String::new()
            };
            let destination = report::Destination { region, account_id: None };
            let mut out = std::io::stdout().lock();
            report::write_findings(format, &data, &destination, &mut out)?;
        }
    }
    Ok(if !outcome.report.errors.is_empty() {
        ExitCode::from(2)
    } else if result.failing() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The packs to evaluate: `--policies`, else the configured paths, with `--venv` and
/// `--pack` over the configuration's. A configured folder that does not exist is an
/// error, except the implicit default `./policies`, which is skipped with a warning so
/// `caracal scan` works from any directory.
fn policy_source(args: &Args, config: &Config) -> anyhow::Result<Option<PolicySource>> {
    if args.no_policies {
        return Ok(None);
    }
    let explicit = !args.policies.is_empty();
    let paths = if explicit { args.policies.clone() } else { config.policies.paths.clone() };
    let is_default = !explicit && paths == caracal_core::config::PoliciesConfig::default().paths;
    if is_default && !paths.iter().all(|p| p.is_dir()) {
        eprintln!(
            "caracal: no ./policies folder here: evaluating no policies (use --policies DIR)"
        );
        return Ok(None);
    }
    if let Some(missing) = paths.iter().find(|p| !p.is_dir()) {
        anyhow::bail!("policy folder {} does not exist", missing.display());
    }
    let mut source = PolicySource::configured(paths, &config.policies);
    if args.venv.is_some() {
        source.venv = args.venv.clone();
    }
    if !args.packs.is_empty() {
        source.packs = args.packs.clone();
    }
    Ok(Some(source))
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
        "{:<28} {:>7} {:>6} {:>8} {:>8} {:>7} {:>8} {:>7} {:>9}",
        "TYPE", "SEEN", "NEW", "CHANGED", "DELETED", "ERRORS", "REQUESTS", "REQ/RES", "THROTTLED"
    );
    let per_resource = |s: &caracal_core::TypeSummary| {
        s.requests_per_resource().map_or_else(|| "-".to_owned(), |r| format!("{r:.2}"))
    };
    for (t, s) in &report.types {
        println!(
            "{t:<28} {:>7} {:>6} {:>8} {:>8} {:>7} {:>8} {:>7} {:>9}",
            s.seen,
            s.new,
            s.changed,
            s.deleted,
            s.errors,
            s.requests,
            per_resource(s),
            s.throttled
        );
    }
    let t = report.totals();
    println!(
        "{:<28} {:>7} {:>6} {:>8} {:>8} {:>7} {:>8} {:>7} {:>9}",
        "TOTAL",
        t.seen,
        t.new,
        t.changed,
        t.deleted,
        t.errors,
        t.requests,
        per_resource(&t),
        t.throttled
    );
    println!(
        "{} AWS requests ({} throttled) in {:.1} s",
        report.requests,
        report.throttled,
        report.duration_ms as f64 / 1000.0
    );
    if !report.blocked_regions.is_empty() {
        println!("\nRegions skipped, AWS denied them (a service control policy?):");
        for b in &report.blocked_regions {
            println!("  {} {}: {}", b.account_id, b.region, b.reason);
        }
    }
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
