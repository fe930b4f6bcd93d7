//! The [`Processor`] and one object's run: pick the reading mode, then classify, normalize
//! and count each record. The modes are in [`super::lines`] and [`super::json`].

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::decode::decode;
use super::report::{Report, SourceStats, UNCLASSIFIED};
use crate::classify::{Classified, Classifier};
use crate::error::{Error, RecordError, RejectCode};
use crate::event::{Origin, RowIdBlock, RowIds};
use crate::events::{ObjectProcessed, RecordsRejected};
use crate::normalize::{SourceInfo, normalize};
use crate::parsers::{Input, ObjectState, Parser};
use crate::sink::EventSink;

/// Lines longer than this are rejected (`too_long`) without being held in memory.
/// JSON arrays and `Records` files are streamed and not limited by it.
pub const DEFAULT_MAX_LINE: usize = 16 << 20;

/// One object to read.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    /// Its name in errors: `s3://bucket/key` or a path.
    pub name: String,
    /// When it was written (S3 LastModified, file mtime); syslog without a year uses it.
    pub reference_time: DateTime<Utc>,
}

/// Classifies, parses and normalizes the records of objects, sending events to a sink.
pub struct Processor<'p> {
    classifier: Classifier<'p>,
    log_types: Vec<Arc<str>>,
    /// Per candidate, what its events say about where they come from.
    origins: Vec<Arc<Origin>>,
    source: SourceInfo,
    row_ids: Arc<RowIds>,
    pub(super) max_line: usize,
}

impl fmt::Debug for Processor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Processor")
            .field("classifier", &self.classifier)
            .field("source", &self.source)
            .finish()
    }
}

impl<'p> Processor<'p> {
    /// A processor trying `candidates` for events of `source`.
    pub fn new(candidates: Vec<&'p dyn Parser>, source: SourceInfo) -> Self {
        let log_types: Vec<Arc<str>> = candidates.iter().map(|p| Arc::from(p.log_type())).collect();
        let origins = log_types
            .iter()
            .map(|log_type| {
                Arc::new(Origin {
                    log_type: log_type.clone(),
                    source_id: source.id.clone(),
                    source_label: source.label.clone(),
                })
            })
            .collect();
        Processor {
            classifier: Classifier::new(candidates),
            log_types,
            origins,
            source,
            row_ids: Arc::new(RowIds::default()),
            max_line: DEFAULT_MAX_LINE,
        }
    }

    /// Shares a row-id generator with other processors, so their ids never collide.
    pub(crate) fn with_row_ids(mut self, row_ids: Arc<RowIds>) -> Self {
        self.row_ids = row_ids;
        self
    }

    /// The candidate log types, in the order they are tried.
    pub fn log_types(&self) -> &[Arc<str>] {
        &self.log_types
    }

    /// The source its events are attributed to.
    pub fn source(&self) -> &SourceInfo {
        &self.source
    }

    /// Sets the longest line accepted.
    pub fn with_max_line(mut self, max_line: usize) -> Self {
        self.max_line = max_line;
        self
    }

    /// Reads one object to its end. Unreadable input (a truncated gzip stream, an I/O
    /// error) becomes one more record error; only a failing sink stops with `Err`.
    pub fn process(
        &mut self,
        object: &ObjectInfo,
        reader: impl Read,
        sink: &mut dyn EventSink,
    ) -> Result<Report, Error> {
        let candidates = self.log_types.len();
        self.classifier.start_object();
        let mut run = Run {
            proc: self,
            sink,
            object: &object.name,
            state: ObjectState::new(object.reference_time),
            report: Report { objects: 1, ..Report::default() },
            sink_error: None,
            rejected: BTreeMap::new(),
            clock: ParseClock::new(),
            by_candidate: vec![(0, 0); candidates],
            ids: RowIdBlock::default(),
        };
        match decode(reader) {
            Ok(mut r) => run.read(&mut r),
            Err(err) => {
                run.reject(None, 1, RejectCode::Unreadable, format!("cannot read: {err}"), 0)
            }
        }
        for (log_type, (events, bytes)) in run.proc.log_types.iter().zip(&run.by_candidate) {
            if *events > 0 {
                let t = run.report.by_type.entry(log_type.to_string()).or_default();
                t.events += events;
                t.bytes += bytes;
            }
        }
        if let Some(err) = run.sink_error.take() {
            return Err(err);
        }
        for (code, count) in std::mem::take(&mut run.rejected) {
            caracal_telemetry::emit(RecordsRejected { object: run.object, code, count });
        }
        let mut report = run.report;
        report.by_source.insert(
            run.proc.source.id.to_string(),
            SourceStats {
                objects: 1,
                events: report.events,
                errors: report.errors,
                last_object: Some(object.name.clone()),
            },
        );
        caracal_telemetry::emit(ObjectProcessed {
            object: &object.name,
            source: &run.proc.source.id,
            report: &report,
        });
        Ok(report)
    }
}

/// `p_parse_time`, read from the system clock once per [`ParseClock::EVERY`] events
/// rather than for each (the clock read was 4% of VPC Flow parsing).
struct ParseClock {
    now: chrono::DateTime<Utc>,
    uses: u32,
}

impl ParseClock {
    const EVERY: u32 = 256;

    fn new() -> Self {
        ParseClock { now: Utc::now(), uses: 0 }
    }

    fn now(&mut self) -> chrono::DateTime<Utc> {
        self.uses += 1;
        if self.uses >= Self::EVERY {
            self.uses = 0;
            self.now = Utc::now();
        }
        self.now
    }
}

/// Reading one object: the reading modes add to its report through [`Run::handle_value`],
/// [`Run::classify`] and [`Run::reject`].
pub(super) struct Run<'a, 'p> {
    pub(super) proc: &'a mut Processor<'p>,
    sink: &'a mut dyn EventSink,
    object: &'a str,
    state: ObjectState,
    pub(super) report: Report,
    pub(super) sink_error: Option<Error>,
    rejected: BTreeMap<RejectCode, u64>,
    clock: ParseClock,
    /// Events and bytes per candidate parser, for `Report::by_type`.
    by_candidate: Vec<(u64, u64)>,
    ids: RowIdBlock,
}

/// How an object starts, which decides how it is read.
enum Start {
    /// Text or JSON lines (a pretty-printed document is found while reading them).
    Lines,
    /// A JSON array, streamed element by element.
    Array,
    /// CloudTrail's `{"Records":[...]}`, streamed record by record.
    Records,
}

/// What [`detect`] skipped before the first record.
struct Leading {
    /// Blank lines.
    lines: u64,
    /// Bytes.
    bytes: u64,
}

/// Skips leading blank lines (and a UTF-8 byte order mark), returning how the rest starts
/// and what was skipped.
fn detect(r: &mut dyn BufRead) -> io::Result<(Start, Leading)> {
    let mut newlines = 0;
    let mut bytes = 0;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok((Start::Lines, Leading { lines: newlines, bytes }));
        }
        let skip = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let skip = if skip == 0 && buf.starts_with(b"\xef\xbb\xbf") { 3 } else { skip };
        if skip == 0 {
            break;
        }
        newlines += buf[..skip].iter().filter(|&&b| b == b'\n').count() as u64;
        bytes += skip as u64;
        r.consume(skip);
    }
    let buf = r.fill_buf()?;
    let start = match buf.first() {
        Some(b'[') => Start::Array,
        Some(b'{') => {
            let rest = std::str::from_utf8(&buf[1..buf.len().min(64)]).unwrap_or("");
            let rest = rest.trim_start();
            match rest.strip_prefix("\"Records\"") {
                Some(after) if after.trim_start().starts_with(':') => Start::Records,
                _ => Start::Lines,
            }
        }
        _ => Start::Lines,
    };
    Ok((start, Leading { lines: newlines, bytes }))
}

impl Run<'_, '_> {
    fn read(&mut self, r: &mut dyn BufRead) {
        let (start, leading) = match detect(r) {
            Ok(s) => s,
            Err(err) => {
                self.reject(None, 1, RejectCode::Unreadable, format!("cannot read: {err}"), 0);
                return;
            }
        };
        // Blank lines before the first record (#11.14: counted as skipped, as blank lines
        // after it are).
        self.report.lines += leading.lines;
        self.report.skipped += leading.lines;
        self.report.bytes += leading.bytes;
        match start {
            Start::Lines => self.read_lines(r, leading.lines, true),
            Start::Array | Start::Records => {
                self.read_stream(r, leading.lines, matches!(start, Start::Records))
            }
        }
    }

    /// Classifies a JSON value. With `expand`, a top-level array, CloudTrail's
    /// `{"Records":[...]}` and any wrapper a candidate parser splits
    /// ([`Parser::split`]) are split into their records first.
    pub(super) fn handle_value(&mut self, value: Value, line_no: u64, len: u64, expand: bool) {
        if expand {
            let items = match value {
                Value::Array(items) => items,
                // A wrapper has at most two keys (AWS Config history: a version and its list);
                // other objects are not offered to `split`, which
                // costs a call per candidate.
                Value::Object(mut map) if map.len() <= 2 => {
                    if let Some(Value::Array(items)) = map.get_mut("Records") {
                        std::mem::take(items)
                    } else {
                        let mut value = Value::Object(map);
                        match self.split(&mut value) {
                            Some(items) => items,
                            None => return self.handle_value(value, line_no, len, false),
                        }
                    }
                }
                other => return self.handle_value(other, line_no, len, false),
            };
            if items.is_empty() {
                self.report.skipped += 1;
                return;
            }
            let n = items.len() as u64;
            for (i, item) in items.into_iter().enumerate() {
                let share = len / n + u64::from((i as u64) < len % n);
                self.handle_value(item, line_no, share, false);
            }
            return;
        }
        if let Some((log_type, code, reason)) = self.classify(Input::Json(value), line_no, len) {
            self.reject(log_type, line_no, code, reason, len);
        }
    }

    /// The records of a wrapper one of the candidate parsers recognises.
    fn split(&self, value: &mut Value) -> Option<Vec<Value>> {
        self.proc.classifier.candidates().iter().find_map(|p| p.split(value))
    }

    /// Runs the classifier; sends the event, counts a skip, or returns why it was rejected.
    pub(super) fn classify(
        &mut self,
        mut input: Input<'_>,
        line_no: u64,
        len: u64,
    ) -> Option<(Option<String>, RejectCode, String)> {
        let _ = line_no;
        match self.proc.classifier.classify(&mut input, &mut self.state) {
            Classified::Skip => {
                self.report.skipped += 1;
                None
            }
            Classified::Event { index, parsed } => {
                let parser = self.proc.classifier.candidates()[index];
                let origin = &self.proc.origins[index];
                let parse_time = self.clock.now();
                let row_id = self.proc.row_ids.next_in(&mut self.ids, &parse_time);
                let event = normalize(parsed, parser, origin, row_id, parse_time);
                self.report.records += 1;
                self.report.events += 1;
                // Counted per candidate and folded into `by_type` once per object: a map
                // lookup per event showed in profiles.
                if let Some((events, bytes)) = self.by_candidate.get_mut(index) {
                    *events += 1;
                    *bytes += len;
                }
                if let Err(err) = self.sink.accept(event) {
                    self.sink_error = Some(err);
                }
                None
            }
            Classified::Rejected { log_type, code, reason } => Some((log_type, code, reason)),
        }
    }

    /// Counts one record that did not become an event, keeping it in full while there is
    /// room in the report.
    pub(super) fn reject(
        &mut self,
        log_type: Option<String>,
        line: u64,
        code: RejectCode,
        reason: String,
        len: u64,
    ) {
        self.report.records += 1;
        self.report.errors += 1;
        *self.rejected.entry(code).or_default() += 1;
        if log_type.is_none() {
            let source = self.proc.source.id.to_string();
            *self.report.unclassified.entry(source).or_default() += 1;
        }
        let t = self
            .report
            .by_type
            .entry(log_type.clone().unwrap_or_else(|| UNCLASSIFIED.into()))
            .or_default();
        t.errors += 1;
        t.bytes += len;
        if self.report.first_errors.len() < super::report::KEPT_ERRORS {
            self.report.first_errors.push(RecordError {
                object: self.object.to_owned(),
                line,
                log_type,
                code,
                reason,
            });
        }
    }
}
