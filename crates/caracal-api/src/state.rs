//! [`ApiState`]: what every handler shares: the application context, the packs to
//! describe and evaluate, the lake to read matched events from, the counters, and the
//! scans started through the API.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use caracal_app::fanout::TargetQueue;
use caracal_app::search::LakeSearch;
use caracal_app::{Context, PolicySource};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use caracal_python::pack::{self, DetectionSpec, LoadOptions};

use crate::error::ApiError;
use crate::metrics::Metrics;

/// Reads the specs of pack folders in a blocking task.
async fn load(paths: Vec<PathBuf>) -> Result<Arc<Vec<DetectionSpec>>, ApiError> {
    if paths.is_empty() {
        return Ok(Arc::default());
    }
    let loaded = tokio::task::spawn_blocking(move || pack::load(&paths, &LoadOptions::default()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("loading packs: {e}")))?;
    Ok(Arc::new(loaded.detections))
}

/// Scans kept in memory for `GET /v1/scans`.
const KEPT_SCANS: usize = 100;

/// The handlers' shared state; cheap to clone.
#[derive(Clone, Debug)]
pub struct ApiState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ctx: Arc<Context>,
    policies: Option<PolicySource>,
    rules: Vec<PathBuf>,
    lake: Option<PathBuf>,
    scan_queue: Option<Arc<dyn TargetQueue>>,
    search: Option<Arc<dyn LakeSearch>>,
    metrics: Arc<Metrics>,
    scans: Mutex<BTreeMap<u64, ScanRun>>,
    next_scan: AtomicU64,
    /// The packs' specs, read once (like the compiled engines, which a scan keeps for
    /// the life of the process): `/v1/policies` and friends never re-read YAML.
    policy_specs: tokio::sync::OnceCell<Arc<Vec<DetectionSpec>>>,
    rule_specs: tokio::sync::OnceCell<Arc<Vec<DetectionSpec>>>,
}

/// Where the API finds what it serves besides the store.
#[derive(Debug, Clone, Default)]
pub struct ApiOptions {
    /// The policy packs: listed by `/v1/policies`, evaluated by scans.
    pub policies: Option<PolicySource>,
    /// Rule pack folders listed by `/v1/rules`.
    pub rules: Vec<PathBuf>,
    /// The local lake whose match tables hold alerts' events.
    pub lake: Option<PathBuf>,
    /// Where `POST /v1/scans` queues its targets instead of scanning in this process
    /// (Lambda, which freezes a function once it has answered).
    pub scan_queue: Option<Arc<dyn TargetQueue>>,
    /// What answers `GET /v1/search` (the local lake's indicator columns); without it
    /// the endpoint answers 503.
    pub search: Option<Arc<dyn LakeSearch>>,
}

impl ApiState {
    /// State over `ctx`, counting into `metrics`.
    pub fn new(ctx: Arc<Context>, options: ApiOptions, metrics: Arc<Metrics>) -> Self {
        let inner = Inner {
            ctx,
            policies: options.policies,
            rules: options.rules,
            lake: options.lake,
            scan_queue: options.scan_queue,
            search: options.search,
            metrics,
            scans: Mutex::default(),
            next_scan: AtomicU64::new(1),
            policy_specs: tokio::sync::OnceCell::new(),
            rule_specs: tokio::sync::OnceCell::new(),
        };
        Self { inner: Arc::new(inner) }
    }

    /// The application context.
    pub fn ctx(&self) -> &Arc<Context> {
        &self.inner.ctx
    }

    /// The policy packs, when configured.
    pub fn policies(&self) -> Option<&PolicySource> {
        self.inner.policies.as_ref()
    }

    /// The rule pack folders.
    pub fn rules(&self) -> &[PathBuf] {
        &self.inner.rules
    }

    /// The specs of the policy packs, loaded on first use (none configured: empty).
    pub async fn policy_specs(&self) -> Result<Arc<Vec<DetectionSpec>>, ApiError> {
        let paths = self.policies().map(|p| p.paths.clone()).unwrap_or_default();
        self.inner.policy_specs.get_or_try_init(|| load(paths)).await.cloned()
    }

    /// The specs of the rule packs, loaded on first use.
    pub async fn rule_specs(&self) -> Result<Arc<Vec<DetectionSpec>>, ApiError> {
        let paths = self.rules().to_vec();
        self.inner.rule_specs.get_or_try_init(|| load(paths)).await.cloned()
    }

    /// The local lake.
    pub fn lake(&self) -> Option<&PathBuf> {
        self.inner.lake.as_ref()
    }

    /// The queue scans are handed to, when they don't run in this process.
    pub fn scan_queue(&self) -> Option<&Arc<dyn TargetQueue>> {
        self.inner.scan_queue.as_ref()
    }

    /// The lake search, when this process has a lake.
    pub fn search(&self) -> Option<&Arc<dyn LakeSearch>> {
        self.inner.search.as_ref()
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Records a new scan as running and returns its id.
    pub(crate) fn scan_started(&self, request: serde_json::Value, started_by: String) -> u64 {
        let id = self.inner.next_scan.fetch_add(1, Ordering::Relaxed);
        tracing::info!(scan = id, actor = %started_by, %request, "Scan started through the API.");
        let run = ScanRun {
            id,
            status: ScanStatus::Running,
            request,
            started_by,
            started_at: Utc::now(),
            finished_at: None,
            summary: None,
            error: None,
        };
        let mut scans = self.scans();
        scans.insert(id, run);
        while scans.len() > KEPT_SCANS {
            scans.pop_first();
        }
        id
    }

    /// Records that scan `id` was handed to the scan queue as `targets` targets; its
    /// results show in the resources and compliance it updates, not here.
    pub(crate) fn scan_queued(&self, id: u64, targets: usize) {
        if let Some(run) = self.scans().get_mut(&id) {
            run.status = ScanStatus::Queued;
            run.summary = Some(serde_json::json!({ "queued_targets": targets }));
        }
    }

    /// Records how scan `id` ended.
    pub(crate) fn scan_finished(&self, id: u64, result: Result<serde_json::Value, String>) {
        if let Some(run) = self.scans().get_mut(&id) {
            run.finished_at = Some(Utc::now());
            match result {
                Ok(summary) => {
                    run.status = ScanStatus::Finished;
                    run.summary = Some(summary);
                }
                Err(error) => {
                    run.status = ScanStatus::Failed;
                    run.error = Some(error);
                }
            }
        }
    }

    /// One scan.
    pub(crate) fn scan(&self, id: u64) -> Option<ScanRun> {
        self.scans().get(&id).cloned()
    }

    /// The kept scans, newest first.
    pub(crate) fn scan_list(&self) -> Vec<ScanRun> {
        self.scans().values().rev().cloned().collect()
    }

    fn scans(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, ScanRun>> {
        self.inner.scans.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A scan started through the API.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScanRun {
    /// Its id.
    pub id: u64,
    /// running, queued, finished or failed.
    pub status: ScanStatus,
    /// What was asked.
    #[schema(value_type = Object)]
    pub request: serde_json::Value,
    /// Who asked: the token's audit name (`token:ci-bot`).
    pub started_by: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Totals and verdict counts, once finished.
    #[schema(value_type = Option<Object>)]
    pub summary: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Where a scan is.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// Still running.
    Running,
    /// Handed to the scan queue, one message per account and region; the scanner
    /// function runs them.
    Queued,
    /// Done; see the summary.
    Finished,
    /// Failed; see the error.
    Failed,
}
