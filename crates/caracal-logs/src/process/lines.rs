//! Text and JSON lines: each line is one record, parsed in place in the reader's buffer
//! when it fits. A first record that is the start of a pretty-printed JSON document
//! switches to reading JSON values ([`super::json`]).

use std::io::{self, BufRead, Read};

use serde_json::Value;

use super::processor::Run;
use crate::error::RejectCode;
use crate::parsers::Input;

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

impl Run<'_, '_> {
    /// Reads lines to the end; `line_no` lines came before. With `may_be_pretty`, a first
    /// record that is the start of a JSON document (`{` and nothing more on its line, say)
    /// switches to reading JSON values across lines; without it, it is an invalid line.
    pub(super) fn read_lines(
        &mut self,
        r: &mut dyn BufRead,
        mut line_no: u64,
        may_be_pretty: bool,
    ) {
        let mut buf = Vec::with_capacity(4096);
        let mut first_record = may_be_pretty;
        loop {
            if self.sink_error.is_some() {
                return;
            }
            if !first_record {
                // Fast path: a whole line inside the reader's buffer is handled in place.
                let available = match r.fill_buf() {
                    Ok(b) => b,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(err) => {
                        // The error is not asked for again: a reader may not repeat it.
                        let reason = format!("cannot read: {err}");
                        self.reject(None, line_no + 1, RejectCode::Unreadable, reason, 0);
                        return;
                    }
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
                        // A pretty-printed JSON document: read values across lines, this
                        // one again included (counted there, not here).
                        self.report.lines -= 1;
                        self.report.bytes -= buf.len() as u64 + 1;
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
}
