//! `caracal serve`: API, scheduler, queue poller. For now the scheduler only: scans on
//! the `[scan] schedule` cron until Ctrl-C, evaluating the configured policy packs on
//! each scan's snapshots through `caracal_app::posture::scan_and_evaluate`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use caracal_app::{Context, PolicySource, ScanScope, posture};
use caracal_scan::ScanRequest;
use chrono::Utc;
use tracing::{info, warn};

use super::Global;

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
    // A daemon that evaluates nothing would report `failing=0` forever (#11.8): the
    // policy folders must exist at start-up.
    let policies = PolicySource::required(&config.policies)?;
    let scope = ScanScope {
        accounts: Vec::new(),
        request: ScanRequest { regions: Vec::new(), types: config.scan.types.clone() },
    };
    let ctx = Arc::new(Context::from_config(config));
    // Fail at start-up, not at the first run, when the store cannot be opened.
    ctx.store().await?;
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
        tokio::select! {
            result = posture::scan_and_evaluate(&ctx, &scope, Some(&policies), &()) => match result {
                Ok(result) => {
                    let t = result.outcome.report.totals();
                    let failing = result.evaluation.as_ref().map_or(0, |e| e.reportable().len());
                    info!(
                        seen = t.seen, new = t.new, changed = t.changed, deleted = t.deleted,
                        errors = result.outcome.report.errors.len(),
                        requests = result.outcome.report.requests,
                        failing, "Scheduled scan finished."
                    );
                }
                Err(err) => warn!(
                    error = %caracal_core::error::chain(&err),
                    "Scheduled scan failed; will retry at the next run."
                ),
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
