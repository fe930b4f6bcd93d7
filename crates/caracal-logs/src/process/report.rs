//! What reading produced: [`Report`], its counts per log type, the first errors in full.

use std::collections::BTreeMap;

use crate::error::{RecordError, RejectCode};

/// How many record errors a [`Report`] keeps in full; all are counted.
pub const KEPT_ERRORS: usize = 100;
/// The `by_type` key of rejected records that no parser claimed.
pub(crate) const UNCLASSIFIED: &str = "(unclassified)";

/// Counts for one log type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeStats {
    /// Events produced.
    pub events: u64,
    /// Records rejected.
    pub errors: u64,
    /// Decompressed bytes of those records.
    pub bytes: u64,
}

/// Counts for one source (`p_source_id`), with the last object read from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Objects read.
    pub objects: u64,
    /// Events produced.
    pub events: u64,
    /// Records rejected.
    pub errors: u64,
    /// The object read last.
    pub last_object: Option<String>,
}

/// What reading one or more objects produced. `events + errors == records` always.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Objects read.
    pub objects: u64,
    /// Text lines read, those a streamed JSON document spans included.
    pub lines: u64,
    /// Input records: every one is an event or an error.
    pub records: u64,
    /// Events produced.
    pub events: u64,
    /// Records that did not become events.
    pub errors: u64,
    /// Inputs recognised as not being records: blank lines, header lines, digest files.
    pub skipped: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
    /// Per log type; rejected records no parser claimed are under `(unclassified)`.
    pub by_type: BTreeMap<String, TypeStats>,
    /// The first [`KEPT_ERRORS`] errors in full.
    pub first_errors: Vec<RecordError>,
    /// Per `p_source_id`: rejected records that no parser claimed (also counted under
    /// `(unclassified)` in `by_type`), so a source sending a format it was not set up for
    /// shows.
    pub unclassified: BTreeMap<String, u64>,
    /// Per `p_source_id`: objects, events, errors and the last object (what
    /// `caracal sources` shows for a source).
    pub by_source: BTreeMap<String, SourceStats>,
}

impl Report {
    /// The report for an object that was not read at all: one record error.
    pub fn object_error(object: &str, code: RejectCode, reason: String) -> Report {
        let mut by_type = BTreeMap::new();
        by_type.insert(UNCLASSIFIED.to_owned(), TypeStats { errors: 1, ..TypeStats::default() });
        Report {
            objects: 1,
            records: 1,
            errors: 1,
            by_type,
            first_errors: vec![RecordError {
                object: object.to_owned(),
                line: 0,
                log_type: None,
                code,
                reason,
            }],
            ..Report::default()
        }
    }

    /// Adds another report's counts to this one.
    pub fn merge(&mut self, other: Report) {
        self.objects += other.objects;
        self.lines += other.lines;
        self.records += other.records;
        self.events += other.events;
        self.errors += other.errors;
        self.skipped += other.skipped;
        self.bytes += other.bytes;
        for (k, v) in other.by_type {
            let t = self.by_type.entry(k).or_default();
            t.events += v.events;
            t.errors += v.errors;
            t.bytes += v.bytes;
        }
        for (source, n) in other.unclassified {
            *self.unclassified.entry(source).or_default() += n;
        }
        for (source, v) in other.by_source {
            let s = self.by_source.entry(source).or_default();
            s.objects += v.objects;
            s.events += v.events;
            s.errors += v.errors;
            if v.last_object.is_some() {
                s.last_object = v.last_object;
            }
        }
        let room = KEPT_ERRORS.saturating_sub(self.first_errors.len());
        self.first_errors.extend(other.first_errors.into_iter().take(room));
    }
}
