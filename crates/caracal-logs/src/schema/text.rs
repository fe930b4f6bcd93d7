//! Text records of schema-driven types: delimited values (with their header lines), regex
//! captures and `key=value` pairs, each made a JSON object.

use std::sync::Arc;

use regex::Regex;
use serde_json::{Map, Value};

use super::spec::HeaderStyle;
use super::value::insert;
use crate::parsers::ObjectState;

/// Where shared header state lives in [`ObjectState::headers`]: one key per header style,
/// so every schema of that style reads what any of them stored.
fn state_key(style: HeaderStyle) -> &'static str {
    match style {
        HeaderStyle::Zeek => "schema:zeek",
        HeaderStyle::W3c => "schema:w3c",
        _ => "schema:first-line",
    }
}

/// Column names (and, for Zeek, its separators) read from an object's header lines.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    /// The column names in order.
    pub(crate) columns: Vec<String>,
    /// Zeek's `#separator` (a tab unless it says otherwise).
    pub(crate) separator: char,
    /// Zeek's `#unset_field` and `#empty_field`: values that mean none.
    pub(crate) nulls: [String; 2],
    /// Zeek's `#path` (`conn`, `dns`, ...).
    pub(crate) path: Option<String>,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            columns: Vec::new(),
            separator: '\t',
            nulls: ["-".into(), "(empty)".into()],
            path: None,
        }
    }
}

/// The header stored for `style`, if the object had one.
pub(crate) fn header(state: &ObjectState, style: HeaderStyle) -> Option<&Header> {
    state.headers.get(state_key(style)).and_then(|h| h.downcast_ref::<Header>())
}

fn store(state: &mut ObjectState, style: HeaderStyle, header: Header) {
    state.headers.insert(state_key(style), Arc::new(header));
}

/// Reads a Zeek (`#fields\tts\tuid`) or W3C (`#Fields: date time`) header line into the
/// object's state; false when `line` is no such line.
pub(crate) fn read_directive(line: &str, style: HeaderStyle, state: &mut ObjectState) -> bool {
    let Some(body) = line.strip_prefix('#') else { return false };
    let mut h = header(state, style).cloned().unwrap_or_default();
    match style {
        HeaderStyle::Zeek => {
            // `#separator \x09` uses a space; the other lines use the separator.
            if let Some(sep) = body.strip_prefix("separator ") {
                h.separator = unescape(sep.trim()).unwrap_or('\t');
            } else {
                let mut parts = body.split(h.separator);
                let directive = parts.next().unwrap_or("");
                let values: Vec<&str> = parts.collect();
                match directive {
                    "fields" => h.columns = values.iter().map(|s| (*s).to_owned()).collect(),
                    "unset_field" => h.nulls[0] = values.first().copied().unwrap_or("-").into(),
                    "empty_field" => h.nulls[1] = values.first().copied().unwrap_or("").into(),
                    "path" => h.path = values.first().map(|s| (*s).to_owned()),
                    "set_separator" | "open" | "close" | "types" => {}
                    _ => return false,
                }
            }
        }
        HeaderStyle::W3c => {
            if let Some(fields) = body.strip_prefix("Fields:") {
                h.columns = fields.split_whitespace().map(w3c_name).collect();
            } else if !["Version:", "Software:", "Date:", "Remark:"]
                .iter()
                .any(|d| body.starts_with(d))
            {
                return false;
            }
        }
        _ => return false,
    }
    store(state, style, h);
    true
}

/// Stores `columns` as the object's first-line header.
pub(crate) fn store_first_line(state: &mut ObjectState, columns: Vec<String>) {
    store(state, HeaderStyle::FirstLine, Header { columns, ..Header::default() });
}

/// `\x09` as Zeek writes its separator.
fn unescape(s: &str) -> Option<char> {
    match s.strip_prefix("\\x") {
        Some(hex) => u8::from_str_radix(hex, 16).ok().map(char::from),
        None => s.chars().next(),
    }
}

/// `cs(User-Agent)` is `cs_user_agent`, `x-edge-location` is `x_edge_location`.
fn w3c_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '-' | '(' => {
                if !out.ends_with('_') {
                    out.push('_')
                }
            }
            ')' => {}
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    out
}

/// Splits a delimited line. With `quoted`, a value may be `"quoted"` (`""` is a quote,
/// a delimiter inside is kept); `None` for an unterminated quote. A space delimiter splits
/// on runs of whitespace.
pub(crate) fn split(line: &str, delimiter: char, quoted: bool) -> Option<Vec<String>> {
    if delimiter == ' ' && !quoted {
        return Some(line.split_whitespace().map(str::to_owned).collect());
    }
    if !quoted || !line.contains('"') {
        return Some(line.split(delimiter).map(str::to_owned).collect());
    }
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut in_quotes = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                _ => field.push(c),
            }
        } else if c == '"' && at_start {
            in_quotes = true;
            at_start = false;
        } else if c == delimiter || (delimiter == ' ' && c.is_whitespace()) {
            if delimiter == ' ' && at_start && field.is_empty() {
                continue;
            }
            out.push(std::mem::take(&mut field));
            at_start = true;
        } else {
            field.push(c);
            at_start = false;
        }
    }
    if in_quotes {
        return None;
    }
    if !(delimiter == ' ' && at_start && field.is_empty()) {
        out.push(field);
    }
    Some(out)
}

/// Splits `key=value key2="a b" key3='c'` into pairs; a value runs to the next
/// whitespace unless quoted, and what follows a closing quote up to whitespace (a `]`)
/// is dropped. Words without the separator are skipped.
pub(crate) fn key_values(text: &str, separator: char) -> Vec<(&str, String)> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let Some(eq) = rest[..word_end].find(separator) else {
            rest = rest[word_end..].trim_start();
            continue;
        };
        let key = &rest[..eq];
        let after = &rest[eq + separator.len_utf8()..];
        let (value, remaining) = match after.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let body = &after[1..];
                match body.find(q) {
                    Some(close) => {
                        let tail = &body[close + 1..];
                        let skip = tail.find(char::is_whitespace).unwrap_or(tail.len());
                        (body[..close].to_owned(), &tail[skip..])
                    }
                    None => (body.to_owned(), ""),
                }
            }
            _ => {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                (after[..end].to_owned(), &after[end..])
            }
        };
        out.push((key, value));
        rest = remaining.trim_start();
    }
    out
}

/// The named groups of a prefix regex that matched, and where the rest of the line starts.
pub(crate) fn prefix_groups<'l>(
    re: &Regex,
    line: &'l str,
    map: &mut Map<String, Value>,
    nulls: &[String],
) -> Option<&'l str> {
    let caps = re.captures(line)?;
    let end = caps.get(0).map_or(0, |m| m.end());
    put_groups(re, &caps, map, nulls);
    line.get(end..)
}

/// Puts the named groups of `caps` into `map`, leaving out null values.
pub(crate) fn put_groups(
    re: &Regex,
    caps: &regex::Captures<'_>,
    map: &mut Map<String, Value>,
    nulls: &[String],
) {
    for name in re.capture_names().flatten() {
        if let Some(m) = caps.name(name) {
            put(map, name, m.as_str(), nulls);
        }
    }
}

/// Inserts `value` at `name` (dots nest) unless it is a null value.
pub(crate) fn put(map: &mut Map<String, Value>, name: &str, value: &str, nulls: &[String]) {
    if nulls.iter().any(|n| n == value) {
        return;
    }
    if name.contains('.') {
        insert(map, name, Value::String(value.to_owned()));
    } else {
        map.insert(name.to_owned(), Value::String(value.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeek_and_w3c_headers_are_read_into_the_object_state() {
        let mut state = ObjectState::new(chrono::Utc::now());
        assert!(read_directive("#separator \\x09", HeaderStyle::Zeek, &mut state));
        assert!(read_directive("#path\tdns", HeaderStyle::Zeek, &mut state));
        assert!(read_directive("#fields\tts\tuid\tid.orig_h", HeaderStyle::Zeek, &mut state));
        assert!(!read_directive("#nonsense\tx", HeaderStyle::Zeek, &mut state));
        let h = header(&state, HeaderStyle::Zeek).cloned().unwrap_or_default();
        assert_eq!((h.separator, h.path.as_deref()), ('\t', Some("dns")));
        assert_eq!(h.columns, ["ts", "uid", "id.orig_h"]);
        assert!(read_directive(
            "#Fields: date cs(User-Agent) x-edge-location",
            HeaderStyle::W3c,
            &mut state
        ));
        let w = header(&state, HeaderStyle::W3c).cloned().unwrap_or_default();
        assert_eq!(w.columns, ["date", "cs_user_agent", "x_edge_location"]);
    }

    #[test]
    fn delimited_and_key_value_text_splits() {
        assert_eq!(
            split(r#"a,"b, ""c""",,d"#, ',', true),
            Some(vec!["a".into(), "b, \"c\"".into(), "".into(), "d".into()])
        );
        assert_eq!(split("a\t\tb", '\t', false), Some(vec!["a".into(), "".into(), "b".into()]));
        assert_eq!(split("a  b ", ' ', false), Some(vec!["a".into(), "b".into()]));
        assert_eq!(split("\"open,", ',', true), None);
        let kv = key_values(r#"a=1 b="x y" c='p q'] word d=4"#, '=');
        let kv: Vec<(&str, &str)> = kv.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(kv, [("a", "1"), ("b", "x y"), ("c", "p q"), ("d", "4")]);
    }
}
