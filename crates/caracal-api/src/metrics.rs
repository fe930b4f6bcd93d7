//! Prometheus counters of the service, served at `/metrics` in the text exposition
//! format: the API's requests by route and status, then every counter the process's
//! internal events keep (`caracal-telemetry`: scans, policy verdicts, log objects and
//! events, rejected records, rule matches and errors, alerts, deliveries, remediations,
//! queue messages), whichever loop or handler raised them.

use std::collections::BTreeMap;
use std::sync::Mutex;

use caracal_telemetry::{Counters, Sample};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
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

/// The service's counters.
pub struct Metrics {
    registry: Mutex<Registry>,
    /// HTTP requests answered.
    pub requests: Family<RequestLabels, Counter>,
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
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register_collector(Box::new(InternalCounters(Counters::global())));
        Metrics { registry: Mutex::new(registry), requests }
    }
}

impl Metrics {
    /// The text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}

/// The internal events' counters, read at each scrape.
#[derive(Debug)]
struct InternalCounters(&'static Counters);

impl Collector for InternalCounters {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut by_counter: BTreeMap<&str, Vec<Sample>> = BTreeMap::new();
        for sample in self.0.samples() {
            by_counter.entry(sample.counter.name).or_default().push(sample);
        }
        for samples in by_counter.values() {
            let counter = samples[0].counter;
            let mut family = encoder.encode_descriptor(
                counter.name,
                counter.help,
                None,
                prometheus_client::metrics::MetricType::Counter,
            )?;
            for sample in samples {
                let labels: Vec<(&str, &str)> =
                    sample.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                ConstCounter::new(sample.value).encode(family.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}
