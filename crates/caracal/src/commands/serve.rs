//! `caracal serve`: one daemon for the local shape: the HTTP API (`caracal-api`), the
//! scan scheduler (`[scan] schedule`), the SQS log poller with the rules, and rescans
//! driven by the CloudTrail write events the poller processes; with `--lake`, the packs'
//! scheduled queries on their schedules, their rows through the scheduled rules. SIGTERM or Ctrl-C drains:
//! the API finishes in-flight requests, a poll finishes its batch (a message is deleted
//! only once its events and alerts are stored), due rescans run, then it exits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use caracal_api::{ApiOptions, ApiState, HttpOptions, Metrics};
use caracal_app::changes::{self, RescanQueue};
use caracal_app::scheduled::ScheduledRules;
use caracal_app::{Context, LogOptions, LogPipeline, PolicySource, ScanScope, logs, posture};
use caracal_logs::PollOptions;
use caracal_scan::ScanRequest;
use chrono::Utc;
use tokio::sync::watch;
use tracing::{info, warn};

use super::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Serve the API on this address (loopback unless told otherwise)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// Run only the schedulers: scans, and with --lake the scheduled queries; no API, no
    /// poller
    ///
    /// Scans every configured account on the `[scan] schedule` cron (or CARACAL_SCHEDULE).
    #[arg(long)]
    scheduler_only: bool,

    /// Poll this SQS queue of S3 notifications: parse the logs, run the rules, deliver
    /// alerts, and rescan what CloudTrail write events changed
    #[arg(long, value_name = "URL")]
    queue: Option<String>,

    /// Read CloudTrail API-call events that an EventBridge rule sends to this SQS queue
    /// (directly or through SNS), and rescan the resources they changed
    #[arg(long, value_name = "URL")]
    events_queue: Option<String>,

    /// Write the polled events (and the rules' matches) to this lake folder; the API
    /// reads alerts' events from it, and the packs' scheduled queries run over it
    #[arg(long, value_name = "DIR")]
    lake: Option<PathBuf>,

    /// Wait this long after a resource's latest change event before rescanning it
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    rescan_delay: u64,

    /// Allow browser requests from this origin (repeatable; default: no CORS)
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
}

pub async fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let config = global.load_config()?;
    let schedule = match config.scan.schedule.clone() {
        Some(text) => Some((
            caracal_core::config::parse_schedule(&text)
                .map_err(|e| anyhow::anyhow!("scan.schedule {text:?}: {e}"))?,
            text,
        )),
        None if args.scheduler_only => anyhow::bail!(
            "scan.schedule is not set: add it to [scan] in caracal.toml or set CARACAL_SCHEDULE"
        ),
        None => None,
    };
    // A daemon that evaluates nothing would report `failing=0` forever (#11.8): the
    // policy folders must exist at start-up.
    let policies = PolicySource::required(&config.policies)?;
    let rules = config.rules.clone();
    let types = config.scan.types.clone();
    let ctx = Arc::new(Context::from_config(config));
    // Fail at start-up, not at the first request, when the store cannot be opened.
    ctx.store().await?;
    let metrics = Arc::new(Metrics::default());
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        eprintln!("serve: stopping; finishing in-flight work");
        let _ = stop_tx.send(true);
    });

    let mut tasks = tokio::task::JoinSet::new();
    // The poller and the scheduler run on this task: the log pipeline's sink is not
    // `Send`, and the scan's future is not provably `Send` for every lifetime it borrows.
    let mut polling = None;
    let mut scheduling = None;
    let mut querying = None;
    if let Some((schedule, text)) = schedule {
        let scope =
            ScanScope { accounts: Vec::new(), request: ScanRequest { regions: Vec::new(), types } };
        eprintln!("serve: scheduler on {text:?}");
        let (ctx, policies) = (ctx.clone(), policies.clone());
        scheduling = Some(scheduler(ctx, schedule, scope, policies, stop.clone()));
    }
    if let Some(lake) = args.lake.clone() {
        let rule_paths: Vec<PathBuf> = rules.paths.iter().filter(|p| p.is_dir()).cloned().collect();
        if !rule_paths.is_empty() {
            let source = caracal_detect::RuleSource::configured(rule_paths, &rules);
            let scheduled = ScheduledRules::open(&ctx, &source).await?;
            if !scheduled.queries().is_empty() {
                eprintln!(
                    "serve: {} scheduled queries over {}",
                    scheduled.queries().len(),
                    lake.display()
                );
                let until = stop.clone();
                querying = Some(tokio::spawn(async move {
                    let engine = super::scheduled::LakeQueries::new(lake);
                    scheduled.run_on_schedule(&engine, until).await;
                }));
            }
        }
    }
    if !args.scheduler_only {
        let queue = Arc::new(RescanQueue::new(Duration::from_secs(args.rescan_delay)));
        if let Some(url) = args.queue.clone() {
            let rule_paths: Vec<PathBuf> =
                rules.paths.iter().filter(|p| p.is_dir()).cloned().collect();
            let rule_source = (!rule_paths.is_empty())
                .then(|| caracal_detect::RuleSource::configured(rule_paths, &rules));
            let pipeline = LogPipeline::new(LogOptions {
                lake: args.lake.as_ref().map(|p| p.display().to_string()),
                source_id: "serve".into(),
                rules: rule_source,
                ..LogOptions::default()
            })?;
            eprintln!("serve: polling {url}");
            let mut outputs = pipeline.open(&ctx).await?;
            outputs.watch_changes(queue.clone());
            polling = Some(poller(ctx.clone(), pipeline, outputs, url, stop.clone()));
            let mut until = stop.clone();
            let rescans = changes::run(
                ctx.clone(),
                queue.clone(),
                Some(policies.clone()),
                Duration::from_secs(1),
                async move {
                    let _ = until.wait_for(|s| *s).await;
                },
            );
            tasks.spawn(rescans);
        }
        if let Some(url) = args.events_queue.clone() {
            eprintln!("serve: change events from {url}");
            let sqs = ctx.home_clients().await?.sqs();
            let source: Arc<dyn caracal_logs::poll::Queue> =
                Arc::new(caracal_logs::s3::SqsQueue::new(sqs, url));
            let mut until = stop.clone();
            let consumer = caracal_app::change_events::consume(
                ctx.clone(),
                source,
                queue.clone(),
                Some(policies.clone()),
                Duration::from_secs(args.rescan_delay),
                Arc::default(),
                async move {
                    let _ = until.wait_for(|s| *s).await;
                },
            );
            tasks.spawn(consumer);
        }
        let rule_dirs = rules.paths.iter().filter(|p| p.is_dir()).cloned().collect();
        let options = ApiOptions {
            policies: Some(policies.clone()),
            rules: rule_dirs,
            lake: args.lake.clone(),
            scan_queue: None,
            search: args.lake.clone().map(|lake| {
                Arc::new(super::search::LocalSearch::new(lake))
                    as Arc<dyn caracal_app::search::LakeSearch>
            }),
        };
        let state = ApiState::new(ctx.clone(), options, metrics.clone());
        let http =
            HttpOptions { cors_origins: args.cors_origins.clone(), ..HttpOptions::default() };
        let router = caracal_api::router(state, &http);
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        eprintln!("serve: API on http://{} (docs: /openapi.json)", listener.local_addr()?);
        let mut stop = stop.clone();
        tasks.spawn(async move {
            let shutdown = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(err) = caracal_api::serve(listener, router, shutdown).await {
                warn!(error = %err, "API server stopped with an error.");
            }
        });
    }
    let drain = async move { while tasks.join_next().await.is_some() {} };
    let polling = async move {
        if let Some(polling) = polling {
            polling.await;
        }
    };
    let scheduling = async move {
        if let Some(scheduling) = scheduling {
            scheduling.await;
        }
    };
    let querying = async move {
        if let Some(querying) = querying
            && let Err(err) = querying.await
        {
            warn!(error = %err, "The scheduled query runner stopped abnormally.");
        }
    };
    tokio::join!(polling, scheduling, querying, drain);
    eprintln!("serve: stopped");
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                return;
            }
            Err(err) => warn!(error = %err, "Cannot watch SIGTERM; Ctrl-C only."),
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Scans on the cron until stopped; a scan in progress is finished, not cut.
async fn scheduler(
    ctx: Arc<Context>,
    schedule: cron::Schedule,
    scope: ScanScope,
    policies: PolicySource,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let Some(next) = schedule.upcoming(Utc).next() else {
            warn!("Schedule has no future run; the scheduler stops.");
            return;
        };
        info!(next = %next, "Next scan scheduled.");
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match posture::scan_and_evaluate(&ctx, &scope, Some(&policies), &()).await {
            Ok(result) => {
                let t = result.outcome.report.totals();
                let failing = result.evaluation.as_ref().map_or(0, |e| e.reportable().len());
                info!(
                    seen = t.seen,
                    new = t.new,
                    changed = t.changed,
                    deleted = t.deleted,
                    errors = result.outcome.report.errors.len(),
                    requests = result.outcome.report.requests,
                    failing,
                    "Scheduled scan finished."
                );
            }
            Err(err) => {
                warn!(error = %caracal_core::error::chain(&err), "Scheduled scan failed; will retry at the next run.");
            }
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Polls the queue until stopped: each round long-polls until the queue is empty, so a
/// stop request waits at most for the round in progress. Messages, alerts and deliveries
/// are counted by the use cases' internal events.
async fn poller(
    ctx: Arc<Context>,
    pipeline: LogPipeline,
    mut outputs: caracal_app::Outputs,
    url: String,
    stop: watch::Receiver<bool>,
) {
    let options = PollOptions { until_empty: true, ..PollOptions::default() };
    while !*stop.borrow() {
        // A failed poll is logged and counted by the use case; wait, then retry.
        if logs::poll(&ctx, &pipeline, &url, &options, &mut outputs).await.is_err() {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    }
}
