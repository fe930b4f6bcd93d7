//! `caracal report`: the stored verdicts of the policy pack as a table, JSON, CSV, OCSF or
//! ASFF, or per framework control (`--framework`) as a table, JSON, CSV or HTML; and
//! `--send-to securityhub` to import them as ASFF. A thin shell over
//! `caracal_app::report`.
//!
//! Exit: 0, or 1 with `--fail-on SEVERITY` when an unsuppressed FAIL at or above it is in
//! the report; 2 for errors.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use caracal_app::report::{self, Destination, Format, ReportData, framework::FrameworkReport};
use caracal_app::{Context, PolicySource};
use caracal_core::Severity;

use super::Global;

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Failing findings (or, with --framework, one line per control) as a table
    Table,
    /// JSON
    Json,
    /// CSV with a header line
    Csv,
    /// OCSF 1.5 Compliance Findings (class 2003), one per line
    Ocsf,
    /// AWS Security Finding Format, a BatchImportFindings body
    Asff,
    /// One self-contained HTML page (needs --framework)
    Html,
}

/// Where `--send-to` imports findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SendTo {
    /// AWS Security Hub of the credentials' account, home region (BatchImportFindings)
    Securityhub,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Report per control of this framework: any key of the policies' `Reports`
    ///
    /// Such as CIS-AWS-3.0 or AWS-FSBP. Only the policies reporting to it are included.
    #[arg(long, value_name = "KEY", help_heading = "SCOPE")]
    framework: Option<String>,

    /// Write this format
    #[arg(long, value_enum, default_value_t = ReportFormat::Table, help_heading = "OUTPUT")]
    format: ReportFormat,

    /// Write to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE", help_heading = "OUTPUT")]
    output: Option<PathBuf>,

    /// Exit 1 when an unsuppressed FAIL at or above this severity is in the report
    ///
    /// One of info, low, medium, high, critical.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity, help_heading = "OUTPUT")]
    fail_on: Option<Severity>,

    /// Also import the findings as ASFF (100 per call, with the SDK's retries)
    #[arg(long, value_enum, value_name = "DEST", help_heading = "OUTPUT")]
    send_to: Option<SendTo>,

    /// Read policy metadata from the pack in DIR (repeatable)
    ///
    /// Default: `[policies] paths` of caracal.toml, which defaults to ./policies.
    #[arg(long = "policies", value_name = "DIR", help_heading = "POLICIES")]
    policies: Vec<PathBuf>,

    /// Only the policies this pack names (a PackID; repeatable)
    #[arg(long = "pack", value_name = "ID", help_heading = "POLICIES")]
    packs: Vec<String>,
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    text.parse().map_err(|_| format!("{text:?}: one of info, low, medium, high, critical"))
}

pub async fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    if args.format == ReportFormat::Html && args.framework.is_none() {
        anyhow::bail!("--format html needs --framework KEY");
    }
    let config = global.load_config()?;
    let paths = if args.policies.is_empty() {
        config.policies.paths.clone()
    } else {
        args.policies.clone()
    };
    if let Some(missing) = paths.iter().find(|p| !p.is_dir()) {
        anyhow::bail!(
            "policy folder {} does not exist: a report needs the policies' metadata \
             (use --policies DIR)",
            missing.display()
        );
    }
    let mut source = PolicySource::configured(paths, &config.policies);
    if !args.packs.is_empty() {
        source.packs = args.packs.clone();
    }
    let ctx = Arc::new(Context::from_config(config));
    let mut data = report::load(&ctx, &source).await?;
    let framework = match &args.framework {
        Some(key) => {
            let built = FrameworkReport::build(&data, key)?;
            data = only_framework(data, key);
            Some(built)
        }
        None => None,
    };

    let mut sink: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let needs_region = matches!(args.format, ReportFormat::Asff) || args.send_to.is_some();
    let region =
        if needs_region { ctx.aws().await?.home_region().to_owned() } else { String::new() };
    let destination = Destination { region, account_id: None };
    match (&framework, args.format) {
        (Some(f), ReportFormat::Table) => f.write_table(&mut sink)?,
        (Some(f), ReportFormat::Json) => f.write_json(&mut sink)?,
        (Some(f), ReportFormat::Csv) => f.write_csv(&mut sink)?,
        (Some(f), ReportFormat::Html) => report::html::write(f, &mut sink)?,
        (_, format) => {
            let format = match format {
                ReportFormat::Table => Format::Table,
                ReportFormat::Json => Format::Json,
                ReportFormat::Csv => Format::Csv,
                ReportFormat::Ocsf => Format::Ocsf,
                ReportFormat::Asff => Format::Asff,
                ReportFormat::Html => anyhow::bail!("--format html needs --framework KEY"),
            };
            report::write_findings(format, &data, &destination, &mut sink)?;
        }
    }
    sink.flush()?;
    drop(sink);
    if let Some(path) = &args.output {
        eprintln!("caracal: wrote {}", path.display());
    }

    if let Some(SendTo::Securityhub) = args.send_to {
        let client = ctx.home_clients().await?.securityhub();
        let records = report::asff::records(&data, &destination);
        let sent = report::securityhub::import(&client, &records).await?;
        eprintln!(
            "caracal: Security Hub ({}) imported {} of {} findings; BatchImportFindings calls: {}",
            destination.region,
            sent.imported,
            records.len(),
            sent.batches
        );
        for (id, reason) in &sent.failed {
            eprintln!("caracal: Security Hub refused {id}: {reason}");
        }
        if !sent.failed.is_empty() {
            return Ok(ExitCode::from(2));
        }
    }
    Ok(match args.fail_on {
        Some(min) if data.fails_at_or_above(min) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

/// `data` reduced to the policies that report to `framework`.
fn only_framework(mut data: ReportData, framework: &str) -> ReportData {
    data.policies.retain(|_, p| p.reports.contains_key(framework));
    let kept = &data.policies;
    data.findings.retain(|f| kept.contains_key(&f.policy_id));
    data
}
