//! The log processor's internal events (see `caracal-telemetry`): each logs and counts,
//! with closed-set labels (log type, reject code, source id).

use caracal_telemetry::{Counter, Counters, InternalEvent};
use tracing::{info, warn};

use crate::Report;
use crate::error::RejectCode;

/// Objects read to their end, by source.
pub static LOG_OBJECTS: Counter = Counter {
    name: "log_objects",
    help: "Log objects read to their end, by source",
    labels: &["source"],
};

/// Events produced, by log type.
pub static LOG_EVENTS: Counter =
    Counter { name: "log_events", help: "Events produced, by log type", labels: &["log_type"] };

/// Records that did not become events, by reject code.
pub static LOG_RECORDS_REJECTED: Counter = Counter {
    name: "log_records_rejected",
    help: "Log records that did not become events, by reason",
    labels: &["code"],
};

/// One object was read to its end.
pub(crate) struct ObjectProcessed<'a> {
    pub object: &'a str,
    pub source: &'a str,
    pub report: &'a Report,
}

impl InternalEvent for ObjectProcessed<'_> {
    fn log(&self) {
        info!(
            object = self.object,
            source = self.source,
            records = self.report.records,
            events = self.report.events,
            errors = self.report.errors,
            "Object processed."
        );
    }

    fn count(&self, counters: &Counters) {
        counters.add(&LOG_OBJECTS, &[self.source], 1);
        for (log_type, t) in &self.report.by_type {
            if t.events > 0 {
                counters.add(&LOG_EVENTS, &[log_type], t.events);
            }
        }
    }
}

/// Records of one object were rejected, all with one code.
pub(crate) struct RecordsRejected<'a> {
    pub object: &'a str,
    pub code: RejectCode,
    pub count: u64,
}

impl InternalEvent for RecordsRejected<'_> {
    fn log(&self) {
        warn!(object = self.object, code = %self.code, count = self.count, "Records rejected.");
    }

    fn count(&self, counters: &Counters) {
        counters.add(&LOG_RECORDS_REJECTED, &[self.code.as_str()], self.count);
    }

    // A stream of bad objects logs a line every few seconds, not one per object.
    fn log_every(&self) -> std::time::Duration {
        std::time::Duration::from_secs(5)
    }
}
