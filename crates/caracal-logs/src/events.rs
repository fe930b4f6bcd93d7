//! Counted internal events: each logs and counts together, with closed-set labels.

use std::sync::atomic::{AtomicU64, Ordering};

use tracing::{info, warn};

use crate::error::RejectCode;

/// Process-wide counters, read by `caracal serve` metrics and tests.
#[derive(Debug, Default)]
pub struct Stats {
    objects: AtomicU64,
    events: AtomicU64,
    rejected: [AtomicU64; 7],
}

/// The counters of this process.
pub static STATS: Stats = Stats {
    objects: AtomicU64::new(0),
    events: AtomicU64::new(0),
    rejected: [const { AtomicU64::new(0) }; 7],
};

fn code_index(code: RejectCode) -> usize {
    match code {
        RejectCode::Unclassified => 0,
        RejectCode::Malformed => 1,
        RejectCode::NotUtf8 => 2,
        RejectCode::TooLong => 3,
        RejectCode::InvalidJson => 4,
        RejectCode::Unreadable => 5,
        RejectCode::Unrouted => 6,
    }
}

impl Stats {
    /// Objects processed so far.
    pub fn objects(&self) -> u64 {
        self.objects.load(Ordering::Relaxed)
    }
    /// Events produced so far.
    pub fn events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }
    /// Records rejected with `code` so far.
    pub fn rejected(&self, code: RejectCode) -> u64 {
        self.rejected[code_index(code)].load(Ordering::Relaxed)
    }
}

/// One object was read to its end.
pub(crate) struct ObjectProcessed<'a> {
    pub object: &'a str,
    pub records: u64,
    pub events: u64,
    pub errors: u64,
}

impl ObjectProcessed<'_> {
    pub(crate) fn emit(self) {
        info!(
            object = self.object,
            records = self.records,
            events = self.events,
            errors = self.errors,
            "Object processed."
        );
        STATS.objects.fetch_add(1, Ordering::Relaxed);
        STATS.events.fetch_add(self.events, Ordering::Relaxed);
    }
}

/// Records of one object were rejected, all with one code.
pub(crate) struct RecordsRejected<'a> {
    pub object: &'a str,
    pub code: RejectCode,
    pub count: u64,
}

impl RecordsRejected<'_> {
    pub(crate) fn emit(self) {
        warn!(object = self.object, code = %self.code, count = self.count, "Records rejected.");
        STATS.rejected[code_index(self.code)].fetch_add(self.count, Ordering::Relaxed);
    }
}
