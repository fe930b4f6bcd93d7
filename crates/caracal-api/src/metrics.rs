//! Prometheus counters of the service, served at `/metrics` in the text exposition
//! format: requests by route and status, scans, remediations, alerts, deliveries and
//! errors. The daemon's loops (scheduler, poller) count into the same [`Metrics`].

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Labels of an HTTP request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// GET, POST ...
    pub method: String,
    /// The matched route, such as `/v1/resources/{id}` (never the raw path).
    pub route: String,
    /// The answer's status code.
    pub status: u16,
}

/// Labels of work with an outcome.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `ok`, `failed`, ...
    pub outcome: String,
}

/// Labels of an error count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// Where: `scan`, `poll`, `delivery`, `api` ...
    pub source: String,
}

/// The service's counters.
pub struct Metrics {
    registry: Mutex<Registry>,
    /// HTTP requests answered.
    pub requests: Family<RequestLabels, Counter>,
    /// Scans finished.
    pub scans: Family<OutcomeLabels, Counter>,
    /// Remediations applied through the API.
    pub remediations: Family<OutcomeLabels, Counter>,
    /// Alerts opened by the daemon's rules.
    pub alerts_opened: Counter,
    /// Alert deliveries that went through.
    pub deliveries: Family<OutcomeLabels, Counter>,
    /// Errors by where they happened.
    pub errors: Family<ErrorLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("caracal");
        let requests = Family::<RequestLabels, Counter>::default();
        let scans = Family::<OutcomeLabels, Counter>::default();
        let remediations = Family::<OutcomeLabels, Counter>::default();
        let alerts_opened = Counter::default();
        let deliveries = Family::<OutcomeLabels, Counter>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register("scans", "Scans finished", scans.clone());
        registry.register("remediations", "Remediations applied", remediations.clone());
        registry.register("alerts_opened", "Alerts opened", alerts_opened.clone());
        registry.register("deliveries", "Alert deliveries", deliveries.clone());
        registry.register("errors", "Errors by source", errors.clone());
        Metrics {
            registry: Mutex::new(registry),
            requests,
            scans,
            remediations,
            alerts_opened,
            deliveries,
            errors,
        }
    }
}

impl Metrics {
    /// Counts one outcome of `family`.
    pub fn outcome(family: &Family<OutcomeLabels, Counter>, outcome: &str) {
        family.get_or_create(&OutcomeLabels { outcome: outcome.to_owned() }).inc();
    }

    /// Counts one error from `source`.
    pub fn error(&self, source: &str) {
        self.errors.get_or_create(&ErrorLabels { source: source.to_owned() }).inc();
    }

    /// The text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}
