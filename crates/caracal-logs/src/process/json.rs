//! Streamed JSON: a top-level array or CloudTrail's `{"Records":[...]}` is read element by
//! element without holding the document; pretty-printed JSON values (one document or
//! several) are read value by value across lines. What follows a streamed document (more
//! documents, one per line as some forwarders write them) is read as lines.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::processor::Run;
use crate::error::RejectCode;

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    bytes: u64,
    newlines: u64,
    /// Lines holding only whitespace.
    blank: u64,
    /// Whether the current line has shown anything but whitespace.
    line_has_text: bool,
}

/// Counts bytes, newlines and blank lines that pass through, for streamed JSON (which the
/// JSON reader pulls a byte at a time); reading starts at the start of a line.
struct Counting<R> {
    inner: R,
    counts: Rc<Cell<Counts>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut c = self.counts.get();
        c.bytes += n as u64;
        for &b in &buf[..n] {
            if b == b'\n' {
                c.newlines += 1;
                c.blank += u64::from(!c.line_has_text);
                c.line_has_text = false;
            } else if !b.is_ascii_whitespace() {
                c.line_has_text = true;
            }
        }
        self.counts.set(c);
        Ok(n)
    }
}

/// What follows a streamed document on the line where it ends.
enum After {
    /// Only whitespace to the end of the input.
    End,
    /// Only whitespace to the end of the line, newline included (consumed).
    Newline,
    /// Something else on the same line (not consumed).
    More,
}

/// Consumes the whitespace after a document up to and including the end of its line,
/// adding the bytes consumed to `bytes`.
fn after_document(r: &mut dyn BufRead, bytes: &mut u64) -> io::Result<After> {
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(After::End);
        }
        let blank = buf.iter().take_while(|&&b| b != b'\n' && b.is_ascii_whitespace()).count();
        match buf.get(blank) {
            Some(b'\n') => {
                r.consume(blank + 1);
                *bytes += blank as u64 + 1;
                return Ok(After::Newline);
            }
            Some(_) => {
                r.consume(blank);
                *bytes += blank as u64;
                return Ok(After::More);
            }
            None => {
                r.consume(blank);
                *bytes += blank as u64;
            }
        }
    }
}

/// Where the last record handed out ended, so each record's length can be attributed.
struct Progress {
    counts: Rc<Cell<Counts>>,
    attributed: u64,
}

impl Progress {
    fn new() -> Self {
        Progress { counts: Rc::new(Cell::new(Counts::default())), attributed: 0 }
    }

    /// The bytes read since the last call, and the newlines read so far.
    fn next(&mut self) -> (u64, u64) {
        let c = self.counts.get();
        let len = c.bytes - self.attributed;
        self.attributed = c.bytes;
        (len, c.newlines)
    }
}

fn json_error_code(e: &serde_json::Error) -> RejectCode {
    if e.is_io() { RejectCode::Unreadable } else { RejectCode::InvalidJson }
}

impl Run<'_, '_> {
    /// Reads a stream of JSON values (a pretty-printed document or several); `line_offset`
    /// lines came before.
    pub(super) fn read_values(&mut self, r: impl Read, line_offset: u64) {
        let mut progress = Progress::new();
        let counting = Counting { inner: r, counts: progress.counts.clone() };
        let mut stream = serde_json::Deserializer::from_reader(counting).into_iter::<Value>();
        loop {
            if self.sink_error.is_some() {
                return;
            }
            match stream.next() {
                None => break,
                Some(Ok(value)) => {
                    let (len, newlines) = progress.next();
                    self.handle_value(value, line_offset + newlines + 1, len, true);
                }
                Some(Err(e)) => {
                    let line = line_offset + e.line() as u64;
                    self.reject(None, line, json_error_code(&e), format!("invalid JSON: {e}"), 0);
                    break;
                }
            }
        }
        let c = progress.counts.get();
        self.report.lines += c.newlines;
        self.report.bytes += c.bytes;
        self.report.skipped += c.blank;
    }

    /// Streams the elements of a top-level array or of `{"Records":[...]}` one by one;
    /// `line_offset` lines came before. Whatever follows the document on later lines
    /// (more documents, one per line) is read as lines (#11.10).
    pub(super) fn read_stream(&mut self, r: &mut dyn BufRead, line_offset: u64, records: bool) {
        let mut progress = Progress::new();
        let result = {
            let counting = Counting { inner: &mut *r, counts: progress.counts.clone() };
            let mut de = serde_json::Deserializer::from_reader(counting);
            let mut on_item = |value: Value| {
                if self.sink_error.is_some() {
                    return;
                }
                let (len, newlines) = progress.next();
                self.handle_value(value, line_offset + newlines + 1, len, false);
            };
            if records {
                RecordsSeed(&mut on_item).deserialize(&mut de)
            } else {
                ItemsSeed(&mut on_item).deserialize(&mut de)
            }
        };
        let c = progress.counts.get();
        self.report.lines += c.newlines;
        self.report.bytes += c.bytes;
        self.report.skipped += c.blank;
        if let Err(e) = result {
            let line = line_offset + e.line() as u64;
            self.reject(None, line, json_error_code(&e), format!("invalid JSON: {e}"), 0);
            return;
        }
        if self.sink_error.is_some() {
            return;
        }
        // The document ends on line `before + 1`, not counted yet.
        let before = line_offset + c.newlines;
        match after_document(r, &mut self.report.bytes) {
            Ok(After::End) => self.report.lines += 1,
            // A document on one line: more follow one per line, so a line that does not
            // parse is an error of its own. After a document over several lines, the next
            // may be pretty-printed too.
            Ok(After::Newline) => {
                self.report.lines += 1;
                self.read_lines(r, before + 1, c.newlines > 0);
            }
            // The rest of the line is read as a line of its own, under the same number.
            Ok(After::More) => self.read_lines(r, before, false),
            Err(err) => {
                self.report.lines += 1;
                let reason = format!("cannot read: {err}");
                self.reject(None, before + 1, RejectCode::Unreadable, reason, 0);
            }
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
