//! `caracal serve`: API, scheduler, queue poller. For now the scheduler only: scans on
//! the `[scan] schedule` cron until Ctrl-C, evaluating the configured policy packs on
//! each scan's snapshots.

use std::process::ExitCode;

use anyhow::Context;
use caracal_aws::Aws;
use caracal_scan::ScanRequest;
use chrono::Utc;
use tracing::{info, warn};

use super::Global;
use super::scan::{open_sessions, open_store, scan};
use crate::posture::{self, PolicySource};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run only the scan scheduler (the API and queue poller come later)
    ///
    /// Scans every configured account on the `[scan] schedule` cron (or CARACAL_SCHEDULE).
    /// Ctrl-C stops it; a scan cut short keeps what it wrote and deletes nothing more.
    #[arg(long)]
    scheduler_only: bool,
}

pub async fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    if !args.scheduler_only {
        anyhow::bail!("only `caracal serve --scheduler-only` is available so far");
    }
    let config = global.load_config()?;
    let text = config.scan.schedule.clone().context(
        "scan.schedule is not set: add it to [scan] in caracal.toml or set CARACAL_SCHEDULE",
    )?;
    let schedule = caracal_core::config::parse_schedule(&text)
        .map_err(|e| anyhow::anyhow!("scan.schedule {text:?}: {e}"))?;
    let aws = Aws::builder(&config.aws).build().await?;
    let store = open_store(&config, &aws).await?;
    let request = ScanRequest { regions: Vec::new(), types: config.scan.types.clone() };
    eprintln!("serve: scheduler on {text:?}; Ctrl-C stops");

    loop {
        let Some(next) = schedule.upcoming(Utc).next() else {
            warn!(schedule = %text, "Schedule has no future run; stopping.");
            return Ok(ExitCode::SUCCESS);
        };
        info!(next = %next, "Next scan scheduled.");
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
        let run = async {
            // Sessions are opened per run so that assumed-role credentials are fresh.
            let sessions = open_sessions(&aws, &config, &[]).await?;
            let outcome = scan(&store, &config, &sessions, &request, &()).await?;
            let paths: Vec<_> =
                config.policies.paths.iter().filter(|p| p.is_dir()).cloned().collect();
            let failing = if paths.is_empty() {
                0
            } else {
                let source = PolicySource::configured(paths, &config.policies);
                let evaluation =
                    posture::evaluate(&store, outcome.resources.clone(), source).await?;
                evaluation.reportable().len()
            };
            anyhow::Ok((outcome, failing))
        };
        tokio::select! {
            outcome = run => match outcome {
                Ok((outcome, failing)) => {
                    let t = outcome.report.totals();
                    info!(
                        seen = t.seen, new = t.new, changed = t.changed, deleted = t.deleted,
                        errors = outcome.report.errors.len(), requests = outcome.report.requests,
                        failing, "Scheduled scan finished."
                    );
                }
                Err(err) => warn!(error = %format!("{err:#}"), "Scheduled scan failed; will retry at the next run."),
            },
            _ = tokio::signal::ctrl_c() => {
                eprintln!("serve: interrupted during a scan; what it wrote is kept");
                break;
            }
        }
    }
    eprintln!("serve: stopped");
    Ok(ExitCode::SUCCESS)
}
