//! Reading one object: decompress, pick a reading mode (text or JSON lines, a streamed JSON
//! array or `{"Records":[...]}`, pretty-printed JSON values), classify and normalize each
//! record, and account for every one of them.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

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
/// How many record errors a [`Report`] keeps in full; all are counted.
pub const KEPT_ERRORS: usize = 100;
const UNCLASSIFIED: &str = "(unclassified)";

/// One object to read.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    /// Its name in errors: `s3://bucket/key` or a path.
    pub name: String,
    /// When it was written (S3 LastModified, file mtime); syslog without a year uses it.
    pub reference_time: DateTime<Utc>,
}

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

/// What reading one or more objects produced. `events + errors == records` always.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Objects read.
    pub objects: u64,
    /// Text lines read (0 for streamed JSON arrays).
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
        let room = KEPT_ERRORS.saturating_sub(self.first_errors.len());
        self.first_errors.extend(other.first_errors.into_iter().take(room));
    }
}

/// Opens a byte stream, undoing gzip (including concatenated members) or zstd when the
/// first bytes say so.
pub fn decode<'r>(reader: impl Read + 'r) -> io::Result<Box<dyn BufRead + 'r>> {
    const CAPACITY: usize = 256 << 10;
    let mut raw = BufReader::with_capacity(CAPACITY, reader);
    let head = raw.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(CAPACITY, flate2::bufread::MultiGzDecoder::new(raw))))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Ok(Box::new(BufReader::with_capacity(CAPACITY, zstd::Decoder::with_buffer(raw)?)))
    } else {
        Ok(Box::new(raw))
    }
}

/// Classifies, parses and normalizes the records of objects, sending events to a sink.
pub struct Processor<'p> {
    classifier: Classifier<'p>,
    log_types: Vec<Arc<str>>,
    /// Per candidate, what its events say about where they come from.
    origins: Vec<Arc<Origin>>,
    source: SourceInfo,
    row_ids: Arc<RowIds>,
    max_line: usize,
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
        let mut run = Run {
            proc: self,
            sink,
            object: &object.name,
            state: ObjectState::new(object.reference_time),
            report: Report { objects: 1, ..Report::default() },
            sink_error: None,
            counter: Rc::new(Cell::new(Counts::default())),
            attributed: 0,
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
            RecordsRejected { object: run.object, code, count }.emit();
        }
        let report = run.report;
        ObjectProcessed {
            object: &object.name,
            records: report.records,
            events: report.events,
            errors: report.errors,
        }
        .emit();
        Ok(report)
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    bytes: u64,
    newlines: u64,
}

/// Counts bytes and newlines that pass through, for streamed JSON.
struct Counting<R> {
    inner: R,
    counts: Rc<Cell<Counts>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut c = self.counts.get();
        c.bytes += n as u64;
        c.newlines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        self.counts.set(c);
        Ok(n)
    }
}

enum LineRead {
    Eof,
    Line,
    TooLong(u64),
}

/// Reads one line into `buf` (without the newline), keeping at most `max` bytes; the rest
/// of a longer line is read and dropped.
fn read_line_capped(r: &mut dyn BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<LineRead> {
    let mut total: u64 = 0;
    let mut any = false;
    loop {
        let available = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        any = true;
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        total += chunk.len() as u64;
        if buf.len() + chunk.len() <= max {
            buf.extend_from_slice(chunk);
        }
        let used = done.unwrap_or(chunk.len());
        r.consume(used);
        if done.is_some() {
            break;
        }
    }
    if !any {
        return Ok(LineRead::Eof);
    }
    if total > max as u64 {
        buf.clear();
        return Ok(LineRead::TooLong(total));
    }
    Ok(LineRead::Line)
}

struct Run<'a, 'p> {
    proc: &'a mut Processor<'p>,
    sink: &'a mut dyn EventSink,
    object: &'a str,
    state: ObjectState,
    report: Report,
    sink_error: Option<Error>,
    counter: Rc<Cell<Counts>>,
    attributed: u64,
    rejected: BTreeMap<RejectCode, u64>,
    clock: ParseClock,
    /// Events and bytes per candidate parser, for `Report::by_type`.
    by_candidate: Vec<(u64, u64)>,
    ids: RowIdBlock,
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

enum Start {
    Lines,
    Array,
    Records,
}

fn detect(r: &mut dyn BufRead) -> io::Result<(Start, u64)> {
    let mut newlines = 0;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok((Start::Lines, newlines));
        }
        let skip = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let skip = if skip == 0 && buf.starts_with(b"\xef\xbb\xbf") { 3 } else { skip };
        if skip == 0 {
            break;
        }
        newlines += buf[..skip].iter().filter(|&&b| b == b'\n').count() as u64;
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
    Ok((start, newlines))
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
        self.report.lines += leading;
        self.report.bytes += leading;
        match start {
            Start::Lines => self.read_lines(r, leading),
            Start::Array | Start::Records => {
                self.read_stream(r, leading, matches!(start, Start::Records))
            }
        }
    }

    fn read_lines(&mut self, r: &mut dyn BufRead, mut line_no: u64) {
        let mut buf = Vec::with_capacity(4096);
        let mut first_record = true;
        loop {
            if self.sink_error.is_some() {
                return;
            }
            if !first_record {
                // Fast path: a whole line inside the reader's buffer is handled in place.
                let available = match r.fill_buf() {
                    Ok(b) => b,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => &[],
                };
                if let Some(end) = memchr::memchr(b'\n', available)
                    && end <= self.proc.max_line
                {
                    line_no += 1;
                    self.report.lines += 1;
                    self.report.bytes += end as u64 + 1;
                    let line = &available[..end];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    if line.iter().all(u8::is_ascii_whitespace) {
                        self.report.skipped += 1;
                    } else {
                        self.handle_line(line, line_no);
                    }
                    r.consume(end + 1);
                    continue;
                }
            }
            buf.clear();
            match read_line_capped(r, &mut buf, self.proc.max_line) {
                Ok(LineRead::Eof) => return,
                Ok(LineRead::TooLong(len)) => {
                    line_no += 1;
                    self.report.lines += 1;
                    self.report.bytes += len;
                    let reason =
                        format!("line of {len} bytes is longer than {}", self.proc.max_line);
                    self.reject(None, line_no, RejectCode::TooLong, reason, len);
                }
                Ok(LineRead::Line) => {
                    line_no += 1;
                    self.report.lines += 1;
                    self.report.bytes += buf.len() as u64 + 1;
                    if buf.last() == Some(&b'\r') {
                        buf.pop();
                    }
                    if buf.iter().all(u8::is_ascii_whitespace) {
                        self.report.skipped += 1;
                        continue;
                    }
                    let pretty = first_record && buf.first() == Some(&b'{');
                    first_record = false;
                    if pretty
                        && let Err(e) = serde_json::from_slice::<Value>(&buf)
                        && e.is_eof()
                    {
                        // A pretty-printed JSON document: read values across lines.
                        buf.push(b'\n');
                        let first = std::mem::take(&mut buf);
                        let chained = io::Cursor::new(first).chain(r);
                        self.read_values(chained, line_no - 1);
                        return;
                    }
                    self.handle_line(&buf, line_no);
                }
                Err(err) => {
                    line_no += 1;
                    self.reject(
                        None,
                        line_no,
                        RejectCode::Unreadable,
                        format!("cannot read: {err}"),
                        0,
                    );
                    return;
                }
            }
        }
    }

    fn handle_line(&mut self, line: &[u8], line_no: u64) {
        let len = line.len() as u64 + 1;
        let first = line.iter().find(|b| !b.is_ascii_whitespace());
        let mut json_error = None;
        if matches!(first, Some(b'{') | Some(b'[')) {
            match serde_json::from_slice::<Value>(line) {
                Ok(value) => return self.handle_value(value, line_no, len, true),
                Err(e) => json_error = Some(e),
            }
        }
        let Ok(text) = std::str::from_utf8(line) else {
            return self.reject(
                None,
                line_no,
                RejectCode::NotUtf8,
                "line is not valid UTF-8".into(),
                len,
            );
        };
        match (self.classify(Input::Text(text), line_no, len), json_error) {
            (None, _) => {}
            (Some((None, RejectCode::Unclassified, _)), Some(e)) => self.reject(
                None,
                line_no,
                RejectCode::InvalidJson,
                format!("invalid JSON: {e}"),
                len,
            ),
            (Some((log_type, code, reason)), _) => {
                self.reject(log_type, line_no, code, reason, len)
            }
        }
    }

    /// Classifies a JSON value; arrays and `Records`/`findings` wrappers are split first.
    fn handle_value(&mut self, value: Value, line_no: u64, len: u64, expand: bool) {
        if expand {
            let items = match value {
                Value::Array(items) => Some(items),
                Value::Object(mut map) if map.len() == 1 => {
                    match map.get("Records").or(map.get("findings")) {
                        Some(Value::Array(_)) => match map.into_iter().next() {
                            Some((_, Value::Array(items))) => Some(items),
                            _ => None,
                        },
                        _ => {
                            return self.handle_value(
                                Value::Object(std::mem::take(&mut map)),
                                line_no,
                                len,
                                false,
                            );
                        }
                    }
                }
                other => return self.handle_value(other, line_no, len, false),
            };
            let items = items.unwrap_or_default();
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

    /// Reads a stream of JSON values (a pretty-printed document or several).
    fn read_values(&mut self, r: impl Read, line_offset: u64) {
        self.counter.set(Counts::default());
        self.attributed = 0;
        let counting = Counting { inner: r, counts: self.counter.clone() };
        let mut stream = serde_json::Deserializer::from_reader(counting).into_iter::<Value>();
        loop {
            if self.sink_error.is_some() {
                return;
            }
            match stream.next() {
                None => break,
                Some(Ok(value)) => {
                    let c = self.counter.get();
                    let len = c.bytes - self.attributed;
                    self.attributed = c.bytes;
                    self.handle_value(value, line_offset + c.newlines + 1, len, true);
                }
                Some(Err(e)) => {
                    let line = line_offset + e.line() as u64;
                    let kind =
                        if e.is_io() { RejectCode::Unreadable } else { RejectCode::InvalidJson };
                    self.reject(None, line, kind, format!("invalid JSON: {e}"), 0);
                    break;
                }
            }
        }
        let c = self.counter.get();
        self.report.lines += c.newlines;
        self.report.bytes += c.bytes;
    }

    /// Streams the elements of a top-level array or of `{"Records":[...]}` one by one.
    fn read_stream(&mut self, r: &mut dyn BufRead, line_offset: u64, records: bool) {
        self.counter.set(Counts::default());
        self.attributed = 0;
        let counting = Counting { inner: r, counts: self.counter.clone() };
        let mut de = serde_json::Deserializer::from_reader(counting);
        let counter = self.counter.clone();
        let mut on_item = |value: Value| {
            if self.sink_error.is_some() {
                return;
            }
            let c = counter.get();
            let len = c.bytes - self.attributed;
            self.attributed = c.bytes;
            self.handle_value(value, line_offset + c.newlines + 1, len, false);
        };
        let result = if records {
            RecordsSeed(&mut on_item).deserialize(&mut de)
        } else {
            ItemsSeed(&mut on_item).deserialize(&mut de)
        }
        .and_then(|()| de.end());
        if let Err(e) = result {
            let line = line_offset + e.line() as u64;
            let kind = if e.is_io() { RejectCode::Unreadable } else { RejectCode::InvalidJson };
            self.reject(None, line, kind, format!("invalid JSON: {e}"), 0);
        }
        let c = self.counter.get();
        self.report.lines += c.newlines;
        self.report.bytes += c.bytes;
    }

    /// Runs the classifier; sends the event, counts a skip, or returns why it was rejected.
    fn classify(
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

    fn reject(
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
        let t = self
            .report
            .by_type
            .entry(log_type.clone().unwrap_or_else(|| UNCLASSIFIED.into()))
            .or_default();
        t.errors += 1;
        t.bytes += len;
        if self.report.first_errors.len() < KEPT_ERRORS {
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

/// Visits `{"Records": [...], ...}`, streaming the array's elements to a callback.
struct RecordsSeed<'f, F>(&'f mut F);
/// Visits `[...]`, streaming its elements to a callback.
struct ItemsSeed<'f, F>(&'f mut F);

impl<'de, F: FnMut(Value)> DeserializeSeed<'de> for RecordsSeed<'_, F> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(Value)> Visitor<'de> for RecordsSeed<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with a Records array")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "Records" {
                map.next_value_seed(ItemsSeed(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

impl<'de, F: FnMut(Value)> DeserializeSeed<'de> for ItemsSeed<'_, F> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Value)> Visitor<'de> for ItemsSeed<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Value>()? {
            (self.0)(item);
        }
        Ok(())
    }
}
