//! Helpers shared by parsers: time formats, field paths, quoted-field tokenizing.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::{Map, Value};

use super::{IndicatorField, Input};
use crate::indicators::Kind;

/// Builds a static list of indicator fields.
/// Reads a built-in column declaration ([`crate::lake::columns::parse_columns`]); the
/// declarations are constants, checked by `every_parser_declares_its_columns`.
pub(crate) fn declare(text: &str) -> Vec<crate::lake::Column> {
    match crate::lake::columns::parse_columns(text) {
        Ok(columns) => columns,
        Err(reason) => panic!("invalid built-in column declaration: {reason}"),
    }
}

pub(crate) fn fields(list: &[(&str, Kind)]) -> Vec<IndicatorField> {
    list.iter()
        .map(|(path, kind)| IndicatorField { path: (*path).to_owned(), kind: *kind })
        .collect()
}

/// The object inside `input`, if it is a JSON object.
pub(crate) fn object<'a>(input: &'a Input<'_>) -> Option<&'a Map<String, Value>> {
    match input {
        Input::Json(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// Takes the object out of `input` (the caller checked it is one).
pub(crate) fn take_object(input: &mut Input<'_>) -> Map<String, Value> {
    match input {
        Input::Json(v) => match std::mem::take(v) {
            Value::Object(map) => map,
            _ => Map::new(),
        },
        Input::Text(_) => Map::new(),
    }
}

/// Follows a dotted path, walking into arrays; calls `f` on each value found.
pub(crate) fn walk<'a>(value: &'a Value, path: &str, f: &mut dyn FnMut(&'a Value)) {
    match path.split_once('.') {
        _ if path.is_empty() => f(value),
        Some((head, rest)) => match value {
            Value::Object(map) => {
                if let Some(v) = map.get(head) {
                    walk(v, rest, f)
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, path, f)),
            _ => {}
        },
        None => match value {
            Value::Object(map) => {
                if let Some(v) = map.get(path) {
                    f(v)
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, path, f)),
            _ => {}
        },
    }
}

/// Walks `path` in a map.
pub(crate) fn walk_map<'a>(map: &'a Map<String, Value>, path: &str, f: &mut dyn FnMut(&'a Value)) {
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    if let Some(v) = map.get(head) {
        walk(v, rest, f);
    }
}

/// Parses the time formats logs use: RFC 3339, `+0000` offsets, a space instead of `T`,
/// no zone (taken as UTC), and epoch seconds or milliseconds.
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    // Epoch numbers first: no format below can match them, and trying each costs.
    if !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()) {
        return epoch(s.parse().ok()?);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f %z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.fZ"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    None
}

/// Epoch seconds, or milliseconds when the number is too large to be seconds.
pub(crate) fn epoch(n: i64) -> Option<DateTime<Utc>> {
    if n.abs() >= 100_000_000_000 {
        Utc.timestamp_millis_opt(n).single()
    } else {
        Utc.timestamp_opt(n, 0).single()
    }
}

/// A time from a JSON value: a string in any [`parse_time`] format, or an epoch number.
pub(crate) fn value_time(v: Option<&Value>) -> Option<DateTime<Utc>> {
    match v? {
        Value::String(s) => parse_time(s),
        Value::Number(n) => epoch(n.as_i64()?),
        _ => None,
    }
}

/// True when every key is present in `map`.
pub(crate) fn has_all(map: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().all(|k| map.contains_key(*k))
}

/// The EventBridge envelope's `detail`, when `map` is an envelope from `source`.
pub(crate) fn eventbridge_detail<'a>(
    map: &'a Map<String, Value>,
    source: &str,
) -> Option<&'a Map<String, Value>> {
    if map.get("source").and_then(Value::as_str) != Some(source) || !map.contains_key("detail-type")
    {
        return None;
    }
    map.get("detail").and_then(Value::as_object)
}

/// Splits a line of space-separated fields where a field may be `"quoted"` (with `\"`
/// escapes) or `[bracketed]`. Quotes and brackets are removed; `None` for an unterminated
/// quote or bracket. A field of several quoted parts, such as NLB's ALPN list
/// `"h2","http/1.1"`, is one token kept as it is, quotes included (#11.13).
pub(crate) fn split_quoted(line: &str) -> Option<Vec<&str>> {
    let mut out = Vec::with_capacity(32);
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' => i += 1,
            b'"' => {
                let end = closing_quote(bytes, i)?;
                if matches!(bytes.get(end + 1), None | Some(b' ' | b'\t')) {
                    out.push(line.get(i + 1..end)?);
                    i = end + 1;
                } else {
                    // More follows the quote without a space: one token to the next space
                    // outside quotes.
                    let start = i;
                    i = end + 1;
                    while i < bytes.len() && bytes[i] != b' ' && bytes[i] != b'\t' {
                        i = if bytes[i] == b'"' { closing_quote(bytes, i)? + 1 } else { i + 1 };
                    }
                    out.push(line.get(start..i)?);
                }
            }
            b'[' => {
                let start = i + 1;
                let end = start + bytes[start..].iter().position(|&b| b == b']')?;
                out.push(&line[start..end]);
                i = end + 1;
            }
            _ => {
                let start = i;
                while i < bytes.len() && bytes[i] != b' ' && bytes[i] != b'\t' {
                    i += 1;
                }
                out.push(&line[start..i]);
            }
        }
    }
    Some(out)
}

/// The index of the quote closing the one at `open`, skipping `\"` escapes.
fn closing_quote(bytes: &[u8], open: usize) -> Option<usize> {
    let mut j = open + 1;
    loop {
        match bytes.get(j)? {
            b'\\' => j += 2,
            b'"' => return Some(j),
            _ => j += 1,
        }
    }
}

/// Inserts `value` under `name` unless it is empty or `-`; integers become numbers when
/// `numeric` is set.
pub(crate) fn put(map: &mut Map<String, Value>, name: &str, value: &str, numeric: bool) {
    if let Some(v) = field_value(value, numeric) {
        map.insert(name.to_owned(), v);
    }
}

/// The value [`put`] stores for `value`: `None` for empty and `-`.
pub(crate) fn field_value(value: &str, numeric: bool) -> Option<Value> {
    if value.is_empty() || value == "-" {
        return None;
    }
    if numeric {
        if let Ok(n) = value.parse::<i64>() {
            return Some(n.into());
        }
        if let Ok(f) = value.parse::<f64>()
            && let Some(n) = serde_json::Number::from_f64(f)
        {
            return Some(Value::Number(n));
        }
    }
    Some(value.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats_of_real_logs_parse_to_utc() {
        let want = Utc.with_ymd_and_hms(2019, 8, 22, 23, 48, 27).single();
        assert_eq!(parse_time("2019-08-22T23:48:27Z"), want);
        assert_eq!(parse_time("2019-08-23T01:48:27+0200"), want);
        assert_eq!(parse_time("2019-08-22 23:48:27"), want);
        assert_eq!(parse_time("1566517707"), want);
        assert_eq!(parse_time("1566517707000"), want);
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn quoted_and_bracketed_fields_split_as_one() {
        let f = split_quoted(r#"a [01/Aug/2019:00:24:41 +0000] "GET / HTTP/1.1" - \"x\""#);
        assert_eq!(
            f,
            Some(vec!["a", "01/Aug/2019:00:24:41 +0000", "GET / HTTP/1.1", "-", "\\\"x\\\""])
        );
        assert_eq!(split_quoted("a \"open"), None);
    }

    // #11.13: NLB's ALPN client preference list is one quoted token with commas and quotes.
    #[test]
    fn a_field_of_several_quoted_parts_is_one_token() {
        let f = split_quoted(r#"h2 "h2","http/1.1" 2020-04-01T08:51:42 "a b"c "x""#);
        assert_eq!(
            f,
            Some(vec!["h2", r#""h2","http/1.1""#, "2020-04-01T08:51:42", r#""a b"c"#, "x"])
        );
        assert_eq!(split_quoted(r#""a","b"#), None);
    }
}
