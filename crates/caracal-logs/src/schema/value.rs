//! Field values of schema-driven types: paths into nested records, type conversions and
//! time formats.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::{Map, Value};

use super::spec::FieldType;
use crate::parsers::util::parse_time;

/// How a timestamp field is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TimeFormat {
    /// RFC 3339 (and the near variants [`parse_time`] accepts).
    Rfc3339,
    /// Anything [`parse_time`] reads, or epoch seconds/milliseconds as a number.
    Auto,
    /// Epoch seconds, with a fraction or not.
    Unix,
    /// Epoch milliseconds.
    UnixMs,
    /// Epoch microseconds.
    UnixUs,
    /// Epoch nanoseconds.
    UnixNs,
    /// A strftime pattern; UTC when it has no zone.
    Pattern(String),
}

impl TimeFormat {
    /// Reads a `time_format` value.
    pub(crate) fn new(name: Option<&str>) -> TimeFormat {
        match name.unwrap_or("rfc3339") {
            "rfc3339" => TimeFormat::Rfc3339,
            "auto" => TimeFormat::Auto,
            "unix" | "unix_seconds" => TimeFormat::Unix,
            "unix_ms" => TimeFormat::UnixMs,
            "unix_us" => TimeFormat::UnixUs,
            "unix_ns" => TimeFormat::UnixNs,
            pattern => TimeFormat::Pattern(pattern.to_owned()),
        }
    }

    /// The time `v` stands for in this format.
    pub(crate) fn parse(&self, v: &Value) -> Option<DateTime<Utc>> {
        match v {
            Value::String(s) => self.parse_str(s),
            Value::Number(n) => self.parse_str(&n.to_string()),
            _ => None,
        }
    }

    /// The time `s` stands for in this format.
    pub(crate) fn parse_str(&self, s: &str) -> Option<DateTime<Utc>> {
        let s = s.trim();
        match self {
            TimeFormat::Rfc3339 | TimeFormat::Auto => parse_time(s)
                .or_else(|| (*self == TimeFormat::Auto).then(|| epoch_float(s, 1.0)).flatten()),
            TimeFormat::Unix => epoch_float(s, 1.0),
            TimeFormat::UnixMs => epoch_int(s, 1_000_000),
            TimeFormat::UnixUs => epoch_int(s, 1_000),
            TimeFormat::UnixNs => epoch_int(s, 1),
            TimeFormat::Pattern(fmt) => DateTime::parse_from_str(s, fmt)
                .map(|d| d.with_timezone(&Utc))
                .or_else(|_| NaiveDateTime::parse_from_str(s, fmt).map(|n| n.and_utc()))
                .ok(),
        }
    }
}

/// Epoch seconds with an optional fraction (`1700000000.123456`), scaled by `unit`.
fn epoch_float(s: &str, unit: f64) -> Option<DateTime<Utc>> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.is_empty() || frac.len() > 9 {
        let secs: f64 = s.parse().ok()?;
        return DateTime::from_timestamp_micros((secs * unit * 1e6) as i64);
    }
    let secs: i64 = whole.parse().ok()?;
    let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
    let nanos: u32 = digits.parse().ok()?;
    Utc.timestamp_opt(secs, nanos).single()
}

/// An integer epoch in units of `nanos_per_unit` nanoseconds.
fn epoch_int(s: &str, nanos_per_unit: i64) -> Option<DateTime<Utc>> {
    let n: i64 = s.parse().ok().or_else(|| s.parse::<f64>().ok().map(|f| f as i64))?;
    let total = i128::from(n) * i128::from(nanos_per_unit);
    let secs = i64::try_from(total.div_euclid(1_000_000_000)).ok()?;
    let nanos = u32::try_from(total.rem_euclid(1_000_000_000)).ok()?;
    Utc.timestamp_opt(secs, nanos).single()
}

/// The value at `path` in `map`: an exact key first, then dots between nested keys. In
/// arrays the first element holding the rest of the path answers.
pub(crate) fn get<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = map.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    get_in(map.get(head)?, rest)
}

fn get_in<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) => get(map, path),
        Value::Array(items) => items.iter().find_map(|v| get_in(v, path)),
        _ => None,
    }
}

/// Calls `f` on every value at `path` (into arrays); stops at the first error.
pub(crate) fn visit_mut(
    map: &mut Map<String, Value>,
    path: &str,
    f: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    if let Some(v) = map.get_mut(path) {
        return f(v);
    }
    let Some((head, rest)) = path.split_once('.') else { return Ok(()) };
    match map.get_mut(head) {
        Some(v) => visit_in(v, rest, f),
        None => Ok(()),
    }
}

fn visit_in(
    value: &mut Value,
    path: &str,
    f: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    match value {
        Value::Object(map) => visit_mut(map, path, f),
        Value::Array(items) => items.iter_mut().try_for_each(|v| visit_in(v, path, f)),
        _ => Ok(()),
    }
}

/// Inserts `value` at `path`, making the objects on the way (`id.orig_h` is
/// `{"id": {"orig_h": ...}}`). A non-object on the way is replaced.
pub(crate) fn insert(map: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            map.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let slot = map.entry(head.to_owned()).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(inner) = slot {
                insert(inner, rest, value);
            }
        }
    }
}

/// The text of a scalar value.
pub(crate) fn text(v: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        Value::String(s) => Some(s.as_str().into()),
        Value::Number(n) => Some(n.to_string().into()),
        Value::Bool(b) => Some(if *b { "true" } else { "false" }.into()),
        _ => None,
    }
}

/// Converts `v` in place to `kind` (timestamps are checked by the caller and kept).
pub(crate) fn convert(kind: FieldType, separator: &str, v: &mut Value) -> Result<(), String> {
    match kind {
        FieldType::Json | FieldType::Timestamp => Ok(()),
        FieldType::String => {
            if !v.is_string()
                && let Some(t) = text(v)
            {
                *v = Value::String(t.into_owned());
            }
            Ok(())
        }
        FieldType::Bigint => {
            if v.is_i64() || v.is_u64() {
                return Ok(());
            }
            let n: i64 = text(v)
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| format!("{v} is not an integer"))?;
            *v = n.into();
            Ok(())
        }
        FieldType::Float => {
            if v.is_number() {
                return Ok(());
            }
            let n = text(v)
                .and_then(|t| t.trim().parse::<f64>().ok())
                .and_then(serde_json::Number::from_f64)
                .ok_or_else(|| format!("{v} is not a number"))?;
            *v = Value::Number(n);
            Ok(())
        }
        FieldType::Boolean => {
            if v.is_boolean() {
                return Ok(());
            }
            let b = match text(v).map(|t| t.to_ascii_lowercase()).as_deref() {
                Some("true" | "1" | "yes" | "t") => true,
                Some("false" | "0" | "no" | "f") => false,
                _ => return Err(format!("{v} is not a boolean")),
            };
            *v = b.into();
            Ok(())
        }
        FieldType::JsonString => {
            if let Value::String(s) = v {
                *v = serde_json::from_str(s).map_err(|e| format!("not a JSON document: {e}"))?;
            }
            Ok(())
        }
        FieldType::Array => {
            if let Value::String(s) = v {
                let items = s.split(separator).map(|i| Value::String(i.trim().to_owned()));
                *v = Value::Array(items.filter(|i| i != "").collect());
            }
            Ok(())
        }
        FieldType::KvString => {
            if let Value::String(s) = v {
                let mut map = Map::new();
                if separator == " " {
                    for (k, val) in super::text::key_values(s, '=') {
                        map.insert(k.to_owned(), Value::String(val));
                    }
                    *v = Value::Object(map);
                    return Ok(());
                }
                for pair in s.split(separator) {
                    let (k, val) = pair
                        .split_once('=')
                        .ok_or_else(|| format!("{pair:?} is not a key=value pair"))?;
                    map.insert(k.trim().to_owned(), Value::String(val.trim().to_owned()));
                }
                *v = Value::Object(map);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
    }

    #[test]
    fn every_time_format_reads_the_same_instant() {
        let want = at("2024-05-01T10:00:00.250Z");
        assert_eq!(TimeFormat::new(None).parse(&json!("2024-05-01T12:00:00.25+02:00")), want);
        assert_eq!(TimeFormat::new(Some("unix")).parse(&json!(1714557600.25)), want);
        assert_eq!(TimeFormat::new(Some("unix")).parse(&json!("1714557600.250000")), want);
        assert_eq!(TimeFormat::new(Some("unix_ms")).parse(&json!(1714557600250i64)), want);
        assert_eq!(TimeFormat::new(Some("unix_ms")).parse(&json!("1714557600250")), want);
        assert_eq!(TimeFormat::new(Some("unix_us")).parse(&json!(1714557600250000i64)), want);
        assert_eq!(TimeFormat::new(Some("unix_ns")).parse(&json!("1714557600250000000")), want);
        assert_eq!(TimeFormat::new(Some("auto")).parse(&json!(1714557600250i64)), want);
        let apache = TimeFormat::new(Some("%d/%b/%Y:%H:%M:%S%.3f %z"));
        assert_eq!(apache.parse(&json!("01/May/2024:12:00:00.250 +0200")), want);
        let naive = TimeFormat::new(Some("%Y%m%d%H%M%S%.3f"));
        assert_eq!(naive.parse(&json!("20240501100000.250")), want);
        assert_eq!(TimeFormat::new(None).parse(&json!("yesterday")), None);
        assert_eq!(TimeFormat::new(Some("unix")).parse(&json!(true)), None);
    }

    #[test]
    fn paths_reach_into_objects_and_arrays() {
        let mut map = json!({"a": {"b": [{"c": "1"}, {"c": "2"}]}, "x.y": 3})
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert_eq!(get(&map, "a.b.c"), Some(&json!("1")));
        assert_eq!(get(&map, "x.y"), Some(&json!(3)));
        assert_eq!(get(&map, "a.z"), None);
        visit_mut(&mut map, "a.b.c", &mut |v| convert(FieldType::Bigint, ",", v))
            .expect("integers");
        assert_eq!(map["a"]["b"], json!([{"c": 1}, {"c": 2}]));
        insert(&mut map, "id.orig_h", json!("10.0.0.1"));
        assert_eq!(map["id"], json!({"orig_h": "10.0.0.1"}));
    }

    #[test]
    fn conversions_type_values_or_say_why_not() {
        let mut v = json!("SHA256=AB,MD5=CD");
        convert(FieldType::KvString, ",", &mut v).expect("pairs");
        assert_eq!(v, json!({"SHA256": "AB", "MD5": "CD"}));
        let mut v = json!("a, b,");
        convert(FieldType::Array, ",", &mut v).expect("list");
        assert_eq!(v, json!(["a", "b"]));
        let mut v = json!("{\"k\": 1}");
        convert(FieldType::JsonString, ",", &mut v).expect("json");
        assert_eq!(v, json!({"k": 1}));
        let mut v = json!("T");
        convert(FieldType::Boolean, ",", &mut v).expect("bool");
        assert_eq!(v, json!(true));
        let mut v = json!(12);
        convert(FieldType::String, ",", &mut v).expect("text");
        assert_eq!(v, json!("12"));
        assert!(convert(FieldType::Bigint, ",", &mut json!("12x")).is_err());
        assert!(convert(FieldType::Float, ",", &mut json!("nan?")).is_err());
    }
}
