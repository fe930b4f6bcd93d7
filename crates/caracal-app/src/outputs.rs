//! [`Outputs`]: where processed events go: the lake, and the rules when a rule pack is
//! configured. Alerts the rules open are delivered at each flush, after the events
//! are durable, so a queue message is deleted only once its alerts are stored.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use caracal_detect::{DeliveryReport, Detector, RetryPolicy, Router, Summary};
use caracal_logs::{Event, EventSink};
use caracal_store::Store;
use tokio::runtime::Handle;
use tracing::warn;

use crate::changes::RescanQueue;
use crate::detect_sink::DetectSink;

/// The lake and, optionally, the rules. An `EventSink`.
pub struct Outputs {
    lake: Box<dyn EventSink + Send>,
    detect: Option<Detection>,
    changes: Option<Arc<RescanQueue>>,
}

struct Detection {
    sink: DetectSink,
    detector: Arc<Detector>,
    router: Arc<Router>,
    store: Arc<dyn Store>,
    runtime: Handle,
    retry: RetryPolicy,
    delivered_opened: usize,
    deliveries: DeliveryReport,
    check_pending: bool,
}

impl std::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outputs").field("rules", &self.detect.is_some()).finish_non_exhaustive()
    }
}

impl Outputs {
    /// Events to `lake` only.
    pub fn lake_only(lake: Box<dyn EventSink + Send>) -> Self {
        Self { lake, detect: None, changes: None }
    }

    /// Events to `lake` and to `detector` in batches of `batch_size`; alerts delivered
    /// through `router`. Must be created inside a tokio runtime.
    pub fn with_rules(
        lake: Box<dyn EventSink + Send>,
        detector: Arc<Detector>,
        batch_size: usize,
        router: Arc<Router>,
        store: Arc<dyn Store>,
    ) -> Self {
        let detect = Detection {
            sink: DetectSink::new(detector.clone(), batch_size).keeping_matches(),
            detector,
            router,
            store,
            runtime: Handle::current(),
            retry: RetryPolicy::default(),
            delivered_opened: 0,
            deliveries: DeliveryReport::default(),
            // Alerts left pending by an earlier run are retried at the first flush.
            check_pending: true,
        };
        Self { lake, detect: Some(detect), changes: None }
    }

    /// Also hands CloudTrail write events to `queue`, which rescans what they changed.
    pub fn watch_changes(&mut self, queue: Arc<RescanQueue>) {
        self.changes = Some(queue);
    }

    /// Shorter backoff between delivery attempts (tests).
    pub fn set_retry(&mut self, retry: RetryPolicy) {
        if let Some(d) = &mut self.detect {
            d.retry = retry;
        }
    }

    /// What the rules did so far; `None` without rules.
    pub fn summary(&self) -> Option<Summary> {
        self.detect.as_ref().map(|d| d.detector.summary())
    }

    /// What the deliveries did so far; `None` without rules.
    pub fn deliveries(&self) -> Option<&DeliveryReport> {
        self.detect.as_ref().map(|d| &d.deliveries)
    }

    /// The detector, when rules run.
    pub fn detector(&self) -> Option<&Arc<Detector>> {
        self.detect.as_ref().map(|d| &d.detector)
    }
}

impl Detection {
    /// Delivers when this run opened alerts since the last delivery, or once at start.
    fn deliver(&mut self) -> Result<(), caracal_logs::Error> {
        let opened = self.detector.summary().opened.len();
        if opened == self.delivered_opened && !self.check_pending {
            return Ok(());
        }
        let report = self.runtime.block_on(caracal_detect::deliver_pending(
            self.store.as_ref(),
            &self.router,
            &self.retry,
        ));
        let report = report.map_err(|e| caracal_logs::Error::Source {
            context: "delivering alerts".into(),
            reason: caracal_core::error::chain(&e),
        })?;
        self.delivered_opened = opened;
        // Still-pending deliveries are tried again at every flush until they go through.
        self.check_pending = !report.pending.is_empty();
        self.deliveries.delivered += report.delivered;
        self.deliveries.pending = report.pending;
        Ok(())
    }
}

impl EventSink for Outputs {
    fn accept(&mut self, event: Event) -> Result<(), caracal_logs::Error> {
        if let Some(queue) = &self.changes {
            queue.observe(&event);
        }
        match &mut self.detect {
            Some(d) => {
                self.lake.accept(event.clone())?;
                d.sink.accept(event)?;
                for (event, rule_match) in d.sink.take_matches() {
                    self.lake.accept_match(&event, &rule_match)?;
                }
                Ok(())
            }
            None => self.lake.accept(event),
        }
    }

    fn flush(&mut self) -> Result<(), caracal_logs::Error> {
        let mut rules = Ok(());
        if let Some(d) = &mut self.detect {
            rules = d.sink.flush();
            for (event, rule_match) in d.sink.take_matches() {
                self.lake.accept_match(&event, &rule_match)?;
            }
        }
        // The lake (match tables included) is durable before alerts are delivered.
        let lake = self.lake.flush();
        rules?;
        if let Some(d) = &mut self.detect
            && let Err(err) = d.deliver()
        {
            // Deliveries stay pending in the store: retried at the next flush or run.
            warn!(error = %err, "Alert delivery did not finish.");
        }
        lake
    }

    fn rescue(&mut self, folder: &Path) -> Result<Vec<PathBuf>, caracal_logs::Error> {
        self.lake.rescue(folder)
    }
}
