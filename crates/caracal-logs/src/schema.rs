//! Custom log types from YAML, so users add a log type without code:
//!
//! ```yaml
//! name: Custom.WebApp            # the p_log_type
//! parser:
//!   regex: '^(?P<time>\S+) (?P<client>\S+) (?P<user>\S+) "(?P<path>[^"]*)" (?P<status>\d+)$'
//!   # or: json: {}        (one JSON object per line)
//!   # or: csv: { delimiter: ",", columns: [time, client, user, path, status], skip_header: true }
//! fields:
//!   - { name: time, type: timestamp, time_format: rfc3339, event_time: true }
//!   - { name: client, type: string, indicators: [ip] }
//!   - { name: user, type: string, indicators: [username, email] }
//!   - { name: status, type: bigint, required: true }
//! ```
//!
//! Types: `string`, `bigint`, `float`, `boolean`, `timestamp`, `json`. Time formats:
//! `rfc3339`, `unix`, `unix_ms`, or a strftime pattern (`%Y-%m-%d %H:%M:%S`), taken as UTC
//! when it has no zone. Indicators: `ip`, `host`, `url`, `domain`, `arn`, `aws_account_id`,
//! `aws_instance_id`, `sha256`, `md5`, `email`, `username`. A record is this type when every
//! `required` field (or, when none is, the event-time field) is present; a field that
//! fails its type makes the record malformed.

use std::path::Path;

use chrono::{DateTime, NaiveDateTime, Utc};
use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::indicators::Kind;
use crate::parsers::util::{epoch, parse_time};
use crate::parsers::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};

/// A custom log type as written in YAML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSchema {
    /// The log type name, such as `Custom.WebApp`.
    pub name: String,
    /// How lines are split into fields.
    pub parser: ParserSpec,
    /// The fields, with their types and roles.
    pub fields: Vec<FieldSpec>,
}

/// How lines are split into fields: exactly one of `json`, `csv`, `regex`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParserSpec {
    /// One JSON object per line.
    #[serde(default)]
    pub json: Option<JsonSpec>,
    /// Delimited values.
    #[serde(default)]
    pub csv: Option<CsvSpec>,
    /// A regular expression with named groups.
    #[serde(default)]
    pub regex: Option<String>,
}

/// JSON lines (no options yet).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSpec {}

/// Delimited values.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvSpec {
    /// The delimiter, one character (default `,`).
    #[serde(default = "comma")]
    pub delimiter: char,
    /// Column names in order.
    pub columns: Vec<String>,
    /// Lines equal to the joined column names are headers and skipped.
    #[serde(default)]
    pub skip_header: bool,
}

/// The parser kind after validation.
#[derive(Debug)]
enum Mode {
    Json,
    Csv(CsvSpec),
    Regex(Regex),
}

fn comma() -> char {
    ','
}

/// A field's value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Text.
    String,
    /// A 64-bit integer.
    Bigint,
    /// A float.
    Float,
    /// `true`/`false`.
    Boolean,
    /// A time, read with `time_format`.
    Timestamp,
    /// Any JSON value, kept as is.
    Json,
}

/// One field of a custom schema.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The field name (a JSON key, CSV column or regex group).
    pub name: String,
    /// Its type (default `string`).
    #[serde(rename = "type", default = "string_type")]
    pub kind: FieldType,
    /// For timestamps: `rfc3339`, `unix`, `unix_ms` or a strftime pattern.
    #[serde(default)]
    pub time_format: Option<String>,
    /// This field is `p_event_time`.
    #[serde(default)]
    pub event_time: bool,
    /// The record must have this field to be of this type.
    #[serde(default)]
    pub required: bool,
    /// Indicator kinds this field feeds.
    #[serde(default)]
    pub indicators: Vec<String>,
}

fn string_type() -> FieldType {
    FieldType::String
}

fn indicator_kind(name: &str) -> Option<Kind> {
    Some(match name {
        "ip" => Kind::Ip,
        "host" => Kind::Host,
        "url" => Kind::Url,
        "domain" => Kind::Domain,
        "arn" => Kind::Arn,
        "aws_account_id" => Kind::AccountId,
        "aws_instance_id" => Kind::InstanceId,
        "sha256" => Kind::Sha256,
        "md5" => Kind::Md5,
        "email" => Kind::Email,
        "username" => Kind::Username,
        _ => return None,
    })
}

/// A parser built from a [`LogSchema`].
#[derive(Debug)]
pub struct CustomParser {
    schema: LogSchema,
    mode: Mode,
    indicators: Vec<IndicatorField>,
    header: Option<String>,
}

impl CustomParser {
    /// Checks a schema and builds its parser.
    pub fn new(schema: LogSchema) -> Result<Self, Error> {
        let bad = |reason: String| Error::Schema { name: schema.name.clone(), reason };
        if schema.name.is_empty() || schema.fields.is_empty() {
            return Err(bad("a schema needs a name and at least one field".into()));
        }
        if schema.fields.iter().filter(|f| f.event_time).count() > 1 {
            return Err(bad("more than one field is marked event_time".into()));
        }
        let mut indicators = Vec::new();
        for f in &schema.fields {
            if f.event_time && f.kind != FieldType::Timestamp {
                return Err(bad(format!("event_time field {:?} is not a timestamp", f.name)));
            }
            for name in &f.indicators {
                let kind = indicator_kind(name)
                    .ok_or_else(|| bad(format!("unknown indicator {name:?}")))?;
                indicators.push(IndicatorField { path: f.name.clone(), kind });
            }
        }
        let spec = &schema.parser;
        let (mode, header) = match (&spec.json, &spec.csv, &spec.regex) {
            (Some(_), None, None) => (Mode::Json, None),
            (None, Some(csv), None) => {
                let header = csv.skip_header.then(|| csv.columns.join(&csv.delimiter.to_string()));
                (Mode::Csv(csv.clone()), header)
            }
            (None, None, Some(pattern)) => {
                let re = Regex::new(pattern).map_err(|e| bad(format!("invalid regex: {e}")))?;
                (Mode::Regex(re), None)
            }
            _ => return Err(bad("parser needs exactly one of json, csv, regex".into())),
        };
        Ok(CustomParser { schema, mode, indicators, header })
    }

    /// Reads a schema from a YAML file.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::Io { path: path.display().to_string(), source })?;
        Self::from_yaml(&text, &path.display().to_string())
    }

    /// Reads a schema from YAML text; `origin` names it in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, Error> {
        let schema: LogSchema = serde_norway::from_str(text)
            .map_err(|e| Error::Schema { name: origin.to_owned(), reason: e.to_string() })?;
        Self::new(schema)
    }

    fn typed(&self, raw: &mut Map<String, Value>) -> Parse {
        let required: Vec<&FieldSpec> = self.schema.fields.iter().filter(|f| f.required).collect();
        let present = |f: &FieldSpec| raw.get(&f.name).is_some_and(|v| !v.is_null() && v != "");
        let matches = if required.is_empty() {
            self.schema.fields.iter().filter(|f| f.event_time).all(present)
        } else {
            required.iter().all(|f| present(f))
        };
        if !matches {
            return Parse::NotMine;
        }
        let mut event_time = None;
        for f in &self.schema.fields {
            let Some(v) = raw.get_mut(&f.name) else { continue };
            if v.is_null() {
                continue;
            }
            match convert(f, v) {
                Ok(Some(t)) => {
                    if f.event_time {
                        event_time = Some(t)
                    }
                }
                Ok(None) => {}
                Err(reason) => return Parse::Malformed(format!("field {}: {reason}", f.name)),
            }
        }
        Parse::Event(Parsed { fields: std::mem::take(raw).into(), event_time, indicators: None })
    }
}

/// Converts a value in place to the field's type; returns the time for timestamps.
fn convert(f: &FieldSpec, v: &mut Value) -> Result<Option<DateTime<Utc>>, String> {
    let text = match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match f.kind {
        FieldType::Json => Ok(None),
        FieldType::String => {
            if let Some(t) = text {
                *v = t.into();
            }
            Ok(None)
        }
        FieldType::Bigint => {
            let n: i64 = text
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| format!("{v} is not an integer"))?;
            *v = n.into();
            Ok(None)
        }
        FieldType::Float => {
            let n = text
                .and_then(|t| t.trim().parse::<f64>().ok())
                .and_then(serde_json::Number::from_f64)
                .ok_or_else(|| format!("{v} is not a number"))?;
            *v = Value::Number(n);
            Ok(None)
        }
        FieldType::Boolean => {
            let b = match text.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("true" | "1" | "yes") => true,
                Some("false" | "0" | "no") => false,
                _ => return Err(format!("{v} is not a boolean")),
            };
            *v = b.into();
            Ok(None)
        }
        FieldType::Timestamp => {
            let t = text.as_deref().map(str::trim).ok_or_else(|| format!("{v} is not a time"))?;
            let time = match f.time_format.as_deref().unwrap_or("rfc3339") {
                "rfc3339" => parse_time(t),
                "unix" => t
                    .parse::<f64>()
                    .ok()
                    .and_then(|s| DateTime::from_timestamp_micros((s * 1e6) as i64)),
                "unix_ms" => t.parse::<i64>().ok().and_then(epoch),
                fmt => DateTime::parse_from_str(t, fmt)
                    .map(|d| d.with_timezone(&Utc))
                    .or_else(|_| NaiveDateTime::parse_from_str(t, fmt).map(|n| n.and_utc()))
                    .ok(),
            }
            .ok_or_else(|| format!("{t:?} does not match time format {:?}", f.time_format))?;
            *v = time.to_rfc3339().into();
            Ok(Some(time))
        }
    }
}

/// Splits one CSV line with `"quoted"` values (`""` is a quote).
fn split_csv(line: &str, delimiter: char) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
        } else if c == '"' && at_start {
            quoted = true;
            at_start = false;
        } else if c == delimiter {
            out.push(std::mem::take(&mut field));
            at_start = true;
        } else {
            field.push(c);
            at_start = false;
        }
    }
    if quoted {
        return None;
    }
    out.push(field);
    Some(out)
}

impl Parser for CustomParser {
    fn log_type(&self) -> &str {
        &self.schema.name
    }

    fn indicator_fields(&self) -> &[IndicatorField] {
        &self.indicators
    }

    /// A JSON schema claims records by its required fields (or, when none is, its event-time
    /// fields): their number.
    fn specificity(&self) -> u32 {
        if !matches!(self.mode, Mode::Json) {
            return 0;
        }
        let fields = &self.schema.fields;
        let required = fields.iter().filter(|f| f.required).count();
        let n =
            if required > 0 { required } else { fields.iter().filter(|f| f.event_time).count() };
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    fn parse(&self, input: &mut Input<'_>, _state: &mut ObjectState) -> Parse {
        match (&self.mode, input) {
            (Mode::Json, Input::Json(Value::Object(map))) => {
                let mut candidate = std::mem::take(map);
                match self.typed(&mut candidate) {
                    Parse::Event(p) => Parse::Event(p),
                    other => {
                        *map = candidate;
                        other
                    }
                }
            }
            (Mode::Csv(CsvSpec { delimiter, columns, .. }), Input::Text(line)) => {
                if self.header.as_deref() == Some(line.trim()) {
                    return Parse::Skip;
                }
                let Some(values) = split_csv(line, *delimiter) else { return Parse::NotMine };
                if values.len() != columns.len() {
                    return Parse::NotMine;
                }
                let mut map: Map<String, Value> = columns
                    .iter()
                    .zip(values)
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(c, v)| (c.clone(), Value::String(v)))
                    .collect();
                self.typed(&mut map)
            }
            (Mode::Regex(re), Input::Text(line)) => {
                let Some(caps) = re.captures(line) else { return Parse::NotMine };
                let mut map = Map::new();
                for name in re.capture_names().flatten() {
                    if let Some(m) = caps.name(name) {
                        map.insert(name.to_owned(), m.as_str().into());
                    }
                }
                self.typed(&mut map)
            }
            _ => Parse::NotMine,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::Field;
    use crate::{ObjectInfo, Processor, SourceInfo};

    fn run(parser: &CustomParser, input: &str) -> (crate::Report, Vec<crate::Event>) {
        let mut events = Vec::new();
        let mut p = Processor::new(vec![parser as &dyn Parser], SourceInfo::new("s", "s"));
        let object = ObjectInfo { name: "custom".into(), reference_time: Utc::now() };
        let report = p.process(&object, input.as_bytes(), &mut events).expect("vec sink");
        (report, events)
    }

    #[test]
    fn regex_schema_types_fields_and_fills_indicators() {
        let yaml = r#"
name: Custom.WebApp
parser:
  regex: '^(?P<time>\S+) (?P<client>\S+) (?P<user>\S+) "(?P<path>[^"]*)" (?P<status>\S+)$'
fields:
  - { name: time, type: timestamp, time_format: rfc3339, event_time: true }
  - { name: client, indicators: [ip] }
  - { name: user, indicators: [username, email] }
  - { name: status, type: bigint, required: true }
"#;
        let parser = CustomParser::from_yaml(yaml, "test").expect("valid schema");
        let input = "2024-05-01T10:00:00Z 010.0.0.7 bob@example.com \"/login\" 401\n2024-05-01T10:00:01Z 10.0.0.8 al \"/\" abc\nnot a match\n";
        let (report, events) = run(&parser, input);
        assert_eq!((report.records, report.events, report.errors), (3, 1, 2));
        let e = events[0].to_json();
        assert_eq!(e["p_log_type"], "Custom.WebApp");
        assert_eq!(e["status"], 401);
        assert_eq!(e["p_event_time"], "2024-05-01 10:00:00.000000000");
        assert_eq!(e["p_any_ip_addresses"][0], "10.0.0.7");
        assert_eq!(e["p_any_emails"][0], "bob@example.com");
        assert_eq!(report.first_errors[0].code, crate::RejectCode::Malformed);
        assert_eq!(report.first_errors[0].line, 2);
    }

    #[test]
    fn csv_schema_skips_its_header_and_reads_quoted_values() {
        let yaml = r#"
name: Custom.Csv
parser: { csv: { columns: [ts, host, note], skip_header: true } }
fields:
  - { name: ts, type: timestamp, time_format: "%Y-%m-%d %H:%M:%S", event_time: true }
  - { name: host, indicators: [domain] }
  - { name: note }
"#;
        let parser = CustomParser::from_yaml(yaml, "test").expect("valid schema");
        let (report, events) = run(
            &parser,
            "ts,host,note\n2024-01-02 03:04:05,example.org,\"a, \"\"quoted\"\" note\"\n",
        );
        assert_eq!((report.events, report.skipped), (1, 1));
        let e = events[0].to_json();
        assert_eq!(e["note"], "a, \"quoted\" note");
        assert_eq!(e["p_any_domain_names"][0], "example.org");
        assert_eq!(e["p_event_time"], "2024-01-02 03:04:05.000000000");
    }

    #[test]
    fn json_schema_needs_its_required_fields() {
        let yaml = "name: Custom.Json\nparser: { json: {} }\nfields:\n  - { name: when, type: timestamp, time_format: unix, event_time: true }\n  - { name: actor, required: true, indicators: [username] }\n";
        let parser = CustomParser::from_yaml(yaml, "test").expect("valid schema");
        let (report, events) =
            run(&parser, "{\"when\": 1700000000, \"actor\": \"root\"}\n{\"when\": 1}\n");
        assert_eq!((report.events, report.errors), (1, 1));
        assert_eq!(events[0].indicators.get(Field::Username), ["root"]);
    }

    #[test]
    fn invalid_schemas_are_rejected_with_a_reason() {
        let unknown_key = "name: X\nparser: { json: {} }\nfields: [{ name: a }]\nextra: 1\n";
        assert!(CustomParser::from_yaml(unknown_key, "t").is_err());
        let bad_indicator =
            "name: X\nparser: { json: {} }\nfields: [{ name: a, indicators: [phone] }]\n";
        let err = CustomParser::from_yaml(bad_indicator, "t").expect_err("unknown indicator");
        assert!(err.to_string().contains("unknown indicator \"phone\""), "{err}");
        let bad_regex = "name: X\nparser: { regex: '(' }\nfields: [{ name: a }]\n";
        assert!(CustomParser::from_yaml(bad_regex, "t").is_err());
    }
}
