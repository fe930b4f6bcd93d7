//! The normalized event: a parsed record plus the standard `p_` fields.

use std::sync::Arc;

use crate::event as p;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::event::columns::Fields;
use crate::event::indicators::Indicators;

/// Where events come from: their log type and source, shared by every event one parser
/// makes for one source (one reference count per event instead of three).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `p_log_type`, such as `AWS.CloudTrail`.
    pub log_type: Arc<str>,
    /// `p_source_id`.
    pub source_id: Arc<str>,
    /// `p_source_label`.
    pub source_label: Arc<str>,
}

/// One normalized log event, as the data lake stores it and the rules engine reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `p_log_type`, `p_source_id` and `p_source_label`.
    pub origin: Arc<Origin>,
    /// `p_row_id`: unique and ordered by parse time (see [`RowIds`]).
    pub row_id: RowId,
    /// `p_event_time`: the log's own time, UTC; the parse time when the record has none.
    pub event_time: DateTime<Utc>,
    /// `p_parse_time`.
    pub parse_time: DateTime<Utc>,
    /// The `p_any_*` arrays.
    pub indicators: Indicators,
    /// The log's own fields, as parsed.
    pub fields: Fields,
}

/// Formats a time as `caracal_core::event::P_EVENT_TIME` documents it.
pub fn format_p_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.9f").to_string()
}

impl Event {
    /// `p_log_type`.
    pub fn log_type(&self) -> &str {
        &self.origin.log_type
    }

    /// The event as one flat JSON object: the log's fields plus every `p_` field (empty
    /// indicator arrays are left out). This is what rules receive.
    pub fn to_json(&self) -> Value {
        let mut map = self.fields.to_map();
        map.insert(p::P_LOG_TYPE.into(), Value::from(&*self.origin.log_type));
        map.insert(p::P_ROW_ID.into(), Value::from(self.row_id.as_str()));
        map.insert(p::P_EVENT_TIME.into(), format_p_time(&self.event_time).into());
        map.insert(p::P_PARSE_TIME.into(), format_p_time(&self.parse_time).into());
        map.insert(p::P_SOURCE_ID.into(), Value::from(&*self.origin.source_id));
        map.insert(p::P_SOURCE_LABEL.into(), Value::from(&*self.origin.source_label));
        for (name, values) in self.indicators.named() {
            map.insert(name.into(), values.into());
        }
        Value::Object(map)
    }

    /// Appends the same object as [`Event::to_json`] to `out` as JSON text, written
    /// straight from the fields (no intermediate map): what the rules engine's batches
    /// are made of.
    pub fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let start = out.len();
        serde_json::to_writer(&mut *out, &self.fields)?;
        if out.last() != Some(&b'}') {
            // Not an object (cannot happen for parsed fields): fall back to the map.
            out.truncate(start);
            return serde_json::to_writer(&mut *out, &self.to_json());
        }
        out.pop();
        let mut first = out.len() == start + 1;
        let mut pair = |out: &mut Vec<u8>, key: &str| -> serde_json::Result<()> {
            if !first {
                out.push(b',');
            }
            first = false;
            serde_json::to_writer(&mut *out, key)?;
            out.push(b':');
            Ok(())
        };
        pair(out, p::P_LOG_TYPE)?;
        serde_json::to_writer(&mut *out, &*self.origin.log_type)?;
        pair(out, p::P_ROW_ID)?;
        serde_json::to_writer(&mut *out, self.row_id.as_str())?;
        pair(out, p::P_EVENT_TIME)?;
        serde_json::to_writer(&mut *out, &format_p_time(&self.event_time))?;
        pair(out, p::P_PARSE_TIME)?;
        serde_json::to_writer(&mut *out, &format_p_time(&self.parse_time))?;
        pair(out, p::P_SOURCE_ID)?;
        serde_json::to_writer(&mut *out, &*self.origin.source_id)?;
        pair(out, p::P_SOURCE_LABEL)?;
        serde_json::to_writer(&mut *out, &*self.origin.source_label)?;
        for (name, values) in self.indicators.named() {
            pair(out, name)?;
            serde_json::to_writer(&mut *out, &values)?;
        }
        out.push(b'}');
        Ok(())
    }

    /// The event time as RFC 3339, for messages.
    pub fn event_time_rfc3339(&self) -> String {
        self.event_time.to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

/// A `p_row_id`: 32 lowercase hex digits, kept inline (no allocation per event).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowId([u8; 32]);

impl RowId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into the array.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for RowId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for RowId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RowId({})", self.as_str())
    }
}

/// Makes `p_row_id`s: 32 hex digits of parse time (ms), a per-process salt and a counter,
/// so ids sort by parse time and never repeat within a process; the salt keeps two
/// processes apart.
#[derive(Debug)]
pub struct RowIds {
    salt: u32,
    counter: std::sync::atomic::AtomicU64,
}

impl Default for RowIds {
    fn default() -> Self {
        let nanos = Utc::now().timestamp_subsec_nanos();
        RowIds {
            salt: (nanos ^ std::process::id().rotate_left(16)) & 0x00ff_ffff,
            counter: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

/// Counter values reserved from [`RowIds`] by one reader, so that it does not touch the
/// shared counter for every event.
#[derive(Debug, Default)]
pub struct RowIdBlock {
    next: u64,
    end: u64,
}

impl RowIds {
    const BLOCK: u64 = 1024;

    /// The next id for an event parsed at `parse_time`.
    pub fn next(&self, parse_time: &DateTime<Utc>) -> RowId {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.make(parse_time, n)
    }

    /// The next id for an event parsed at `parse_time`, from `block` (refilled from the
    /// shared counter when used up). Ids stay unique; a reader's ids stay ordered.
    pub fn next_in(&self, block: &mut RowIdBlock, parse_time: &DateTime<Utc>) -> RowId {
        if block.next == block.end {
            block.next = self.counter.fetch_add(Self::BLOCK, std::sync::atomic::Ordering::Relaxed);
            block.end = block.next + Self::BLOCK;
        }
        let n = block.next;
        block.next += 1;
        self.make(parse_time, n)
    }

    fn make(&self, parse_time: &DateTime<Utc>, n: u64) -> RowId {
        let ms = parse_time.timestamp_millis().max(0) as u64;
        // `format!("{:012x}{:06x}{:014x}", ...)` without the formatting machinery.
        let mut id = [0u8; 32];
        put_hex(&mut id[..12], ms & 0xffff_ffff_ffff);
        put_hex(&mut id[12..18], u64::from(self.salt));
        put_hex(&mut id[18..], n & 0x00ff_ffff_ffff_ffff);
        RowId(id)
    }
}

/// Writes the low `out.len()` (an even number) hex digits of `value` into `out`,
/// zero-padded, lowercase; two digits per step.
fn put_hex(out: &mut [u8], value: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let pairs = out.len() / 2;
    for (i, pair) in out.chunks_exact_mut(2).enumerate() {
        let byte = (value >> ((pairs - 1 - i) * 8)) & 0xff;
        pair[0] = HEX[(byte >> 4) as usize];
        pair[1] = HEX[(byte & 0xf) as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::indicators::Kind;

    #[test]
    fn written_json_is_the_same_object_as_to_json() {
        let origin = Arc::new(Origin {
            log_type: "AWS.CloudTrail".into(),
            source_id: "s\"1".into(),
            source_label: "label".into(),
        });
        let mut indicators = Indicators::with_capacity(64, 4);
        indicators.add(Kind::Ip, "10.0.0.1");
        indicators.finish();
        let ids = RowIds::default();
        let now = Utc::now();
        for fields in
            [serde_json::json!({"eventName": "X", "n": [1, {"a": "é"}]}), serde_json::json!({})]
        {
            let Value::Object(map) = fields else { unreachable!() };
            let event = Event {
                origin: origin.clone(),
                row_id: ids.next(&now),
                event_time: now,
                parse_time: now,
                indicators: indicators.clone(),
                fields: map.into(),
            };
            let mut out = Vec::new();
            event.write_json(&mut out).unwrap();
            let parsed: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(parsed, event.to_json());
        }
    }

    #[test]
    fn row_ids_are_unique_and_ordered_by_parse_time() {
        let ids = RowIds::default();
        let t0 = Utc::now();
        let t1 = t0 + chrono::Duration::milliseconds(5);
        let a = ids.next(&t0);
        let b = ids.next(&t0);
        let c = ids.next(&t1);
        assert_ne!(a, b);
        assert!(a < b && b < c);
        let mut block = RowIdBlock::default();
        let d = ids.next_in(&mut block, &t1);
        let e = ids.next_in(&mut block, &t1);
        let f = ids.next(&t1);
        assert!(c < d && d < e && e < f, "a block is reserved ahead of later single ids");
        assert_eq!(a.as_str().len(), 32);
        let ms = t0.timestamp_millis() as u64 & 0xffff_ffff_ffff;
        let want = format!("{:012x}{:06x}{:014x}", ms, ids.salt, 0);
        assert_eq!(a.as_str(), want, "same layout as the format! spelling");
    }
}
