//! `caracal test PATH...`: runs the embedded tests of analysis packs (issue #4).
//!
//! The work is `caracal_python::testing`; this module maps flags to [`TestOptions`],
//! prints the report (text or JSON) and picks the exit code: 0 all passed, 1 a test
//! failed or a spec was invalid, 2 the run itself failed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use caracal_python::testing::{self, Filter, TestOptions};

use super::Global;

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// `[PASS]` / `[FAIL]` lines and a summary
    Text,
    /// One JSON document (for CI)
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pack folders or spec files to test (default: policies and rules)
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Only detections whose spec KEY equals VALUE (repeatable; VALUE may be a,b,c)
    ///
    /// Case-insensitive; for list keys (LogTypes, Tags, ResourceTypes) any element
    /// matches. Example: --filter Severity=High,Critical --filter AnalysisType=rule
    #[arg(long, value_name = "KEY=VALUE", help_heading = "SELECTION")]
    filter: Vec<Filter>,

    /// Only the detections this pack names (a PackID; repeatable)
    #[arg(long = "pack", value_name = "ID", help_heading = "SELECTION")]
    packs: Vec<String>,

    /// Fail detections with fewer than N tests (from 2: one of each outcome)
    #[arg(long, value_name = "N", default_value_t = 0, help_heading = "SELECTION")]
    minimum_tests: usize,

    /// Leave out detections with Enabled: false
    #[arg(long, help_heading = "SELECTION")]
    skip_disabled: bool,

    /// Mark specs with unknown keys invalid (by default they load with a warning)
    #[arg(long, help_heading = "SELECTION")]
    strict_keys: bool,

    /// Accepted for panther-analysis-tool compatibility: unknown keys only warn already
    #[arg(long, hide = true, conflicts_with = "strict_keys")]
    ignore_extra_keys: bool,

    /// Print only failing detections and tests
    #[arg(long, help_heading = "OUTPUT")]
    show_failures_only: bool,

    /// Report format
    #[arg(long, value_enum, default_value_t = Output::Text, help_heading = "OUTPUT")]
    output: Output,

    /// Interrupt a detection call after this many milliseconds
    #[arg(long, value_name = "MS", default_value_t = 5000, help_heading = "PYTHON")]
    timeout_ms: u64,

    /// A virtualenv whose site-packages detections may import from
    #[arg(long, value_name = "DIR", env = "CARACAL_VENV", help_heading = "PYTHON")]
    venv: Option<PathBuf>,

    /// pip-install this requirements.txt into --venv first (creating it with python3)
    #[arg(long, value_name = "FILE", requires = "venv", help_heading = "PYTHON")]
    install_requirements: Option<PathBuf>,
}

pub async fn run(args: Args, _global: &Global) -> anyhow::Result<ExitCode> {
    // The embedded interpreter blocks; keep it off the async workers.
    tokio::task::spawn_blocking(move || run_blocking(args)).await.context("test runner panicked")?
}

fn run_blocking(args: Args) -> anyhow::Result<ExitCode> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("policies"), PathBuf::from("rules")]
    } else {
        args.paths
    };
    let mut python_paths = Vec::new();
    if let Some(venv) = &args.venv {
        let site = match &args.install_requirements {
            Some(requirements) => {
                caracal_python::venv::install_requirements(venv, requirements, "python3".as_ref())?
            }
            None => caracal_python::venv::site_packages(venv)?,
        };
        python_paths.push(site);
    }
    // Detections run in worker processes (this binary, `__python-worker`): one that
    // hangs or exits fails its own test. In-process, one that swallows every interrupt
    // would hang the run: end it instead.
    caracal_python::abort_when_stuck(true);
    let options = TestOptions {
        filters: args.filter,
        minimum_tests: args.minimum_tests,
        strict_keys: args.strict_keys && !args.ignore_extra_keys,
        skip_disabled: args.skip_disabled,
        time_limit: Duration::from_millis(args.timeout_ms),
        python_paths,
        packs: args.packs,
        ..TestOptions::default()
    };
    let report = testing::run(&paths, &options)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.output {
        Output::Text => testing::print_text(&report, args.show_failures_only, &mut out)?,
        Output::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::from(report.exit_code()))
}
