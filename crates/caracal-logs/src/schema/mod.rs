//! Custom log types from YAML, so a log type is data, not code. Users pass their own
//! (`--schema FILE`); the bundled ones in the repository's `schemas/` folder are read the
//! same way ([`crate::catalog`]).
//!
//! ```yaml
//! name: Custom.WebApp            # the p_log_type
//! parser:
//!   regex: '^(?P<time>\S+) (?P<client>\S+) (?P<user>\S+) "(?P<path>[^"]*)" (?P<status>\d+)$'
//!   # or: json: {}              (one JSON object per record; `split: key` unwraps a list)
//!   # or: csv: { delimiter: ",", columns: [time, client], header: first_line | zeek | w3c }
//!   # or: kv: { prefix: '^type=(?P<type>\S+) ' }    (key=value pairs after a prefix)
//! match:                         # all must hold for a record to be of this type
//!   - { field: status }                               # present, not null or empty
//!   - { field: kind, equals: [admin#reports#activity] }
//!   - { field: logName, prefix: projects/ }
//! fields:
//!   - { name: time, type: timestamp, time_format: rfc3339, event_time: true }
//!   - { name: client, type: string, indicators: [ip] }
//!   - { name: actor.email, indicators: [email] }     # dots reach nested fields
//!   - { name: status, type: bigint, required: true }  # required: a match condition too
//! ```
//!
//! Types: `string`, `bigint`, `float`, `boolean`, `timestamp` (checked with `time_format`,
//! kept as written), `json`, `json_string`, `array`, `kv_string`. Time formats: `rfc3339`,
//! `auto`, `unix` (seconds, fraction allowed), `unix_ms`, `unix_us`, `unix_ns`, or a
//! strftime pattern, taken as UTC when it has no zone. Indicators: `ip`, `host`, `url`,
//! `domain`, `arn`, `aws_account_id`, `aws_instance_id`, `sha256`, `md5`, `email`,
//! `username`, `ip_in_text` (IPv4 addresses in free text), `scan` (a subtree searched for
//! ARNs and instance ids). A record is this type when every `match` condition and `required` field
//! holds (with none, when its event-time field is present); then a field that fails its
//! type, or a missing event time, makes it malformed.
//!
//! Specificity (which candidates the classifier tries first, [`Parser::specificity`]) is
//! the number of conditions, plus one for text formats, unless `specificity` sets it.
//! Space-delimited types with plain columns are kept as a [`Record`] (one allocation per
//! line) with their indicators read while splitting, as the native VPC Flow parser does.

mod spec;
mod text;
mod value;

use std::path::Path;
use std::sync::Arc;

use regex::Regex;
use serde_json::{Map, Value};

pub use self::spec::{
    CsvSpec, FieldSpec, FieldType, HeaderStyle, JsonSpec, KvSpec, LogSchema, MatchSpec, OneOrMany,
    ParserSpec,
};
use self::value::TimeFormat;
use crate::columns::{self, ColumnType, Fields, Layout, MAX_COLUMNS, Record, SharedLayout};
use crate::error::Error;
use crate::indicators::{Indicators, Kind};
use crate::parsers::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};

fn indicator_kind(name: &str) -> Option<Kind> {
    Some(match name {
        "ip" => Kind::Ip,
        "host" | "hostname" => Kind::Host,
        "url" => Kind::Url,
        "domain" => Kind::Domain,
        "arn" => Kind::Arn,
        "aws_account_id" => Kind::AccountId,
        "aws_instance_id" => Kind::InstanceId,
        "sha256" => Kind::Sha256,
        "sha1" => Kind::Sha1,
        "md5" => Kind::Md5,
        "email" => Kind::Email,
        "username" => Kind::Username,
        "ip_in_text" => Kind::TextIps,
        "scan" => Kind::Scan,
        _ => return None,
    })
}

/// How records are split, after validation.
#[derive(Debug)]
enum Mode {
    Json { split: Option<String> },
    Csv(Delimited),
    Regex(Regex),
    Kv { prefix: Option<Regex>, separator: char },
}

#[derive(Debug)]
struct Delimited {
    delimiter: char,
    quoted: bool,
    columns: Vec<String>,
    header: HeaderStyle,
    /// The joined column names, for `header: skip`.
    header_line: Option<String>,
    prefix: Option<Regex>,
    extra_columns: bool,
    /// Set when lines can stay text ([`Record`]).
    fast: Option<FastPath>,
}

/// Plain space-delimited columns read without building an object.
#[derive(Debug)]
struct FastPath {
    layout: Arc<Layout>,
    /// Per column: the checks its type asks for (and the format of timestamps).
    checks: Vec<(FieldType, Option<TimeFormat>)>,
    /// The event-time column and its format.
    event_time: Option<(usize, TimeFormat)>,
    /// Indicator columns.
    indicators: Vec<(usize, Kind)>,
    /// Match conditions by column.
    conditions: Vec<(usize, Test)>,
}

/// One condition of the `match` clause.
#[derive(Debug)]
struct Condition {
    path: String,
    test: Test,
}

#[derive(Debug)]
enum Test {
    Present,
    OneOf(Vec<String>),
    Prefix(String),
    Regex(Regex),
}

impl Test {
    fn accepts(&self, text: &str) -> bool {
        match self {
            Test::Present => !text.is_empty(),
            Test::OneOf(values) => values.iter().any(|v| v == text),
            Test::Prefix(p) => text.starts_with(p.as_str()),
            Test::Regex(re) => re.is_match(text),
        }
    }

    fn accepts_value(&self, v: &Value) -> bool {
        match v {
            Value::Null => false,
            Value::Array(items) => match self {
                Test::Present => !items.is_empty(),
                _ => items.iter().any(|i| self.accepts_value(i)),
            },
            Value::Object(map) => matches!(self, Test::Present) && !map.is_empty(),
            other => value::text(other).is_some_and(|t| self.accepts(&t)),
        }
    }
}

/// A field after validation.
#[derive(Debug)]
struct Field {
    path: String,
    kind: FieldType,
    time: TimeFormat,
    separator: String,
    from: Vec<String>,
}

/// A parser built from a [`LogSchema`].
#[derive(Debug)]
pub struct CustomParser {
    schema: LogSchema,
    mode: Mode,
    conditions: Vec<Condition>,
    fields: Vec<Field>,
    event_time: Option<usize>,
    indicators: Vec<IndicatorField>,
    nulls: Vec<String>,
    specificity: u32,
    /// The lake table's typed columns, from the declared fields.
    columns: Vec<crate::lake::Column>,
}

impl CustomParser {
    /// Checks a schema and builds its parser.
    pub fn new(schema: LogSchema) -> Result<Self, Error> {
        let name = schema.name.clone();
        let bad = |reason: String| Error::Schema { name: name.clone(), reason };
        if schema.name.is_empty() || schema.fields.is_empty() {
            return Err(bad("a schema needs a name and at least one field".into()));
        }
        if schema.fields.iter().filter(|f| f.event_time).count() > 1 {
            return Err(bad("more than one field is marked event_time".into()));
        }
        let mut indicators = Vec::new();
        let mut fields = Vec::new();
        for f in &schema.fields {
            if f.event_time && f.kind != FieldType::Timestamp {
                return Err(bad(format!("event_time field {:?} is not a timestamp", f.name)));
            }
            if f.time_format.is_some() && f.kind != FieldType::Timestamp {
                return Err(bad(format!(
                    "field {:?} has a time_format but is no timestamp",
                    f.name
                )));
            }
            for kind in &f.indicators {
                let kind = indicator_kind(kind)
                    .ok_or_else(|| bad(format!("unknown indicator {kind:?}")))?;
                indicators.push(IndicatorField { path: f.name.clone(), kind });
            }
            fields.push(Field {
                path: f.name.clone(),
                kind: f.kind,
                time: TimeFormat::new(f.time_format.as_deref()),
                separator: f.separator.clone().unwrap_or_else(|| ",".to_owned()),
                from: f.from.clone(),
            });
        }
        let event_time = schema.fields.iter().position(|f| f.event_time);
        let mut conditions = Vec::new();
        for m in &schema.conditions {
            let test = match (&m.equals, &m.prefix, &m.regex) {
                (None, None, None) => Test::Present,
                (Some(values), None, None) => Test::OneOf(values.clone().into_vec()),
                (None, Some(prefix), None) => Test::Prefix(prefix.clone()),
                (None, None, Some(re)) => Test::Regex(
                    Regex::new(re).map_err(|e| bad(format!("invalid match regex: {e}")))?,
                ),
                _ => {
                    return Err(bad(format!(
                        "match on {:?}: one of equals, prefix, regex",
                        m.field
                    )));
                }
            };
            conditions.push(Condition { path: m.field.clone(), test });
        }
        for f in schema.fields.iter().filter(|f| f.required) {
            if !conditions.iter().any(|c| c.path == f.name) {
                conditions.push(Condition { path: f.name.clone(), test: Test::Present });
            }
        }
        if conditions.is_empty() {
            let Some(i) = event_time else {
                return Err(bad(
                    "a schema needs a match clause, a required field or an event-time field".into(),
                ));
            };
            conditions.push(Condition { path: schema.fields[i].name.clone(), test: Test::Present });
        }
        let spec = &schema.parser;
        let compile = |re: &str| Regex::new(re).map_err(|e| bad(format!("invalid regex: {e}")));
        let text_mode = spec.json.is_none();
        let mode = match (&spec.json, &spec.csv, &spec.regex, &spec.kv) {
            (Some(j), None, None, None) => Mode::Json { split: j.split.clone() },
            (None, Some(csv), None, None) => {
                let header = if csv.skip_header { HeaderStyle::Skip } else { csv.header };
                let needs_columns = matches!(header, HeaderStyle::None | HeaderStyle::Skip);
                if needs_columns == csv.columns.is_empty() {
                    return Err(bad(if needs_columns {
                        "csv needs columns unless a header names them".into()
                    } else {
                        "csv columns come from the header; leave `columns` out".into()
                    }));
                }
                let header_line = (header == HeaderStyle::Skip)
                    .then(|| csv.columns.join(&csv.delimiter.to_string()));
                Mode::Csv(Delimited {
                    delimiter: csv.delimiter,
                    quoted: csv.quoted,
                    columns: csv.columns.clone(),
                    header,
                    header_line,
                    prefix: csv.prefix.as_deref().map(compile).transpose()?,
                    extra_columns: csv.extra_columns,
                    fast: None,
                })
            }
            (None, None, Some(pattern), None) => Mode::Regex(compile(pattern)?),
            (None, None, None, Some(kv)) => Mode::Kv {
                prefix: kv.prefix.as_deref().map(compile).transpose()?,
                separator: kv.separator,
            },
            _ => return Err(bad("parser needs exactly one of json, csv, regex, kv".into())),
        };
        let nulls = spec.null_values.clone().unwrap_or_else(|| {
            if text_mode { vec![String::new(), "-".into()] } else { Vec::new() }
        });
        let computed = u32::try_from(conditions.len()).unwrap_or(u32::MAX) + u32::from(text_mode);
        let specificity = schema.specificity.unwrap_or(computed);
        let columns = crate::lake::columns::from_schema_fields(&schema.fields);
        let mut parser = CustomParser {
            columns,
            schema,
            mode,
            conditions,
            fields,
            event_time,
            indicators,
            nulls,
            specificity,
        };
        parser.plan_fast_path();
        Ok(parser)
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

    /// The schema it was built from.
    pub fn schema(&self) -> &LogSchema {
        &self.schema
    }

    /// Space-delimited lines of plain columns stay text: set up their [`FastPath`].
    fn plan_fast_path(&mut self) {
        let Mode::Csv(d) = &mut self.mode else { return };
        let plain = d.delimiter == ' '
            && !d.quoted
            && d.prefix.is_none()
            && matches!(d.header, HeaderStyle::None | HeaderStyle::Skip)
            && d.columns.len() <= MAX_COLUMNS
            && self.nulls == [String::new(), "-".to_owned()]
            && d.columns.iter().all(|c| !c.contains('.'));
        if !plain {
            return;
        }
        let column = |path: &str| d.columns.iter().position(|c| c == path);
        let mut checks = vec![(FieldType::String, None); d.columns.len()];
        let mut types = vec![ColumnType::Text; d.columns.len()];
        for f in &self.fields {
            let simple = matches!(
                f.kind,
                FieldType::String | FieldType::Bigint | FieldType::Float | FieldType::Timestamp
            );
            let Some(i) = column(&f.path).filter(|_| simple && f.from.is_empty()) else { return };
            checks[i] = (f.kind, (f.kind == FieldType::Timestamp).then(|| f.time.clone()));
            if matches!(f.kind, FieldType::Bigint | FieldType::Float) {
                types[i] = ColumnType::Number;
            }
        }
        let mut conditions = Vec::new();
        for c in &self.conditions {
            let Some(i) = column(&c.path) else { return };
            let test = match &c.test {
                Test::Present => Test::Present,
                Test::OneOf(v) => Test::OneOf(v.clone()),
                Test::Prefix(p) => Test::Prefix(p.clone()),
                Test::Regex(re) => Test::Regex(re.clone()),
            };
            conditions.push((i, test));
        }
        let mut indicators = Vec::new();
        for ind in &self.indicators {
            let Some(i) = column(&ind.path) else { return };
            indicators.push((i, ind.kind));
        }
        let event_time = match self.event_time {
            Some(e) => match column(&self.fields[e].path) {
                Some(i) => Some((i, self.fields[e].time.clone())),
                None => return,
            },
            None => None,
        };
        let Some(layout) = Layout::new(d.columns.iter().cloned().zip(types).collect()) else {
            return;
        };
        let layout = Arc::new(layout);
        d.fast = Some(FastPath { layout, checks, event_time, indicators, conditions });
    }

    fn matches(&self, map: &Map<String, Value>) -> bool {
        self.conditions
            .iter()
            .all(|c| value::get(map, &c.path).is_some_and(|v| c.test.accepts_value(v)))
    }

    /// Types the fields of a record that matched; its event time.
    fn apply(
        &self,
        map: &mut Map<String, Value>,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
        let mut event_time = None;
        for (i, f) in self.fields.iter().enumerate() {
            if !f.from.is_empty() {
                let parts: Option<Vec<String>> = f
                    .from
                    .iter()
                    .map(|p| value::get(map, p).and_then(value::text).map(|t| t.into_owned()))
                    .collect();
                if let Some(parts) = parts {
                    value::insert(map, &f.path, Value::String(parts.join(" ")));
                }
            }
            if f.kind == FieldType::Timestamp {
                let is_event_time = self.event_time == Some(i);
                let mut check = |v: &mut Value| {
                    if v.is_null() {
                        return Ok(());
                    }
                    match f.time.parse(v) {
                        Some(t) => {
                            if is_event_time && event_time.is_none() {
                                event_time = Some(t);
                            }
                            Ok(())
                        }
                        None => Err(format!("{v} is not a time in format {:?}", f.time)),
                    }
                };
                value::visit_mut(map, &f.path, &mut check)
                    .map_err(|e| format!("field {}: {e}", f.path))?;
                if is_event_time && event_time.is_none() {
                    return Err(format!("event time field {} is missing", f.path));
                }
            } else {
                value::visit_mut(map, &f.path, &mut |v| {
                    if v.is_null() { Ok(()) } else { value::convert(f.kind, &f.separator, v) }
                })
                .map_err(|e| format!("field {}: {e}", f.path))?;
            }
        }
        Ok(event_time)
    }

    /// A text record made an object: conditions, then types.
    fn finish_text(&self, mut map: Map<String, Value>) -> Parse {
        if !self.matches(&map) {
            return Parse::NotMine;
        }
        match self.apply(&mut map) {
            Ok(event_time) => {
                Parse::Event(Parsed { fields: map.into(), event_time, indicators: None })
            }
            Err(reason) => Parse::Malformed(reason),
        }
    }

    fn parse_delimited(&self, d: &Delimited, line: &str, state: &mut ObjectState) -> Parse {
        if let Some(fast) = &d.fast {
            return self.parse_fast(d, fast, line);
        }
        let mut map = Map::new();
        let mut rest = line;
        if let Some(re) = &d.prefix {
            match text::prefix_groups(re, line, &mut map, &self.nulls) {
                Some(r) => rest = r,
                None => return Parse::NotMine,
            }
        }
        let (columns, delimiter, nulls): (&[String], char, &[String]) = match d.header {
            HeaderStyle::None | HeaderStyle::Skip => {
                if d.header_line.as_deref() == Some(line.trim()) {
                    return Parse::Skip;
                }
                (&d.columns, d.delimiter, &self.nulls)
            }
            HeaderStyle::Zeek | HeaderStyle::W3c => {
                if line.starts_with('#') {
                    return if text::read_directive(line, d.header, state) {
                        Parse::Skip
                    } else {
                        Parse::NotMine
                    };
                }
                let Some(h) = text::header(state, d.header) else { return Parse::NotMine };
                if d.header == HeaderStyle::Zeek {
                    if let Some(path) = &h.path {
                        map.insert("_path".into(), Value::String(path.clone()));
                    }
                    (&h.columns, h.separator, &h.nulls[..])
                } else {
                    (&h.columns, d.delimiter, &self.nulls)
                }
            }
            HeaderStyle::FirstLine => match text::header(state, d.header) {
                Some(h) => (&h.columns, d.delimiter, &self.nulls),
                None => return self.read_first_line(d, rest, state),
            },
        };
        let Some(values) = text::split(rest, delimiter, d.quoted) else { return Parse::NotMine };
        if values.len() < columns.len() || (values.len() > columns.len() && !d.extra_columns) {
            return Parse::NotMine;
        }
        for (name, v) in columns.iter().zip(&values) {
            text::put(&mut map, name, v, nulls);
        }
        self.finish_text(map)
    }

    /// The first line of an object as its header: taken when it names every field the
    /// match clause looks at.
    fn read_first_line(&self, d: &Delimited, line: &str, state: &mut ObjectState) -> Parse {
        let first = self.conditions.first().map_or("", |c| c.path.as_str());
        if !line.contains(first) {
            return Parse::NotMine;
        }
        let Some(names) = text::split(line, d.delimiter, d.quoted) else { return Parse::NotMine };
        let names: Vec<String> = names.into_iter().map(|n| n.trim().to_owned()).collect();
        if !self.conditions.iter().all(|c| names.contains(&c.path)) {
            return Parse::NotMine;
        }
        text::store_first_line(state, names);
        Parse::Skip
    }

    fn parse_fast(&self, d: &Delimited, fast: &FastPath, line: &str) -> Parse {
        let mut spans = [(0u32, 0u32); MAX_COLUMNS];
        let Some(n) = columns::split_tokens(line, &mut spans) else { return Parse::NotMine };
        let token =
            |i: usize| spans[..n].get(i).and_then(|&(a, b)| line.get(a as usize..b as usize));
        let columns = fast.layout.len();
        if n < columns || (n > columns && !d.extra_columns) {
            return Parse::NotMine;
        }
        if d.header_line.as_deref() == Some(line.trim()) {
            return Parse::Skip;
        }
        let present = |i: usize| token(i).filter(|t| *t != "-");
        if !fast.conditions.iter().all(|(i, test)| present(*i).is_some_and(|t| test.accepts(t))) {
            return Parse::NotMine;
        }
        let event_column = fast.event_time.as_ref().map(|(i, _)| *i);
        for (i, (check, time)) in fast.checks.iter().enumerate() {
            let Some(t) = present(i) else { continue };
            let ok = match (check, time) {
                (FieldType::Bigint, _) => t.parse::<i64>().is_ok(),
                (FieldType::Float, _) => t.parse::<f64>().is_ok(),
                // The event time is read below.
                (FieldType::Timestamp, Some(format)) if Some(i) != event_column => {
                    format.parse_str(t).is_some()
                }
                _ => true,
            };
            if !ok {
                return Parse::Malformed(format!(
                    "field {}: {t:?} is not a {check:?}",
                    fast.layout.name(i)
                ));
            }
        }
        let event_time = match &fast.event_time {
            Some((i, format)) => match present(*i).map(|t| (t, format.parse_str(t))) {
                Some((_, Some(t))) => Some(t),
                Some((t, None)) => {
                    return Parse::Malformed(format!(
                        "field {}: {t:?} is not a time",
                        fast.layout.name(*i)
                    ));
                }
                None => {
                    return Parse::Malformed(format!(
                        "event time field {} is missing",
                        fast.layout.name(*i)
                    ));
                }
            },
            None => None,
        };
        let mut found = Indicators::with_capacity(64, 4);
        for (i, kind) in &fast.indicators {
            if let Some(t) = present(*i) {
                found.add(*kind, t);
            }
        }
        let layout = SharedLayout::Counted(fast.layout.clone());
        Parse::Event(Parsed {
            fields: Fields::Record(Record::new(layout, line)),
            event_time,
            indicators: Some(found),
        })
    }

    fn parse_kv(&self, prefix: Option<&Regex>, separator: char, line: &str) -> Parse {
        let mut map = Map::new();
        let mut rest = line;
        if let Some(re) = prefix {
            match text::prefix_groups(re, line, &mut map, &self.nulls) {
                Some(r) => rest = r,
                None => return Parse::NotMine,
            }
        }
        for (key, v) in text::key_values(rest, separator) {
            text::put(&mut map, key, &v, &self.nulls);
        }
        self.finish_text(map)
    }
}

impl Parser for CustomParser {
    fn log_type(&self) -> &str {
        &self.schema.name
    }

    fn indicator_fields(&self) -> &[IndicatorField] {
        &self.indicators
    }

    fn columns(&self) -> &[crate::lake::Column] {
        &self.columns
    }

    /// The number of match conditions (plus one for text formats), unless the schema
    /// sets it.
    fn specificity(&self) -> u32 {
        self.specificity
    }

    fn split(&self, value: &mut Value) -> Option<Vec<Value>> {
        let Mode::Json { split: Some(key) } = &self.mode else { return None };
        let Value::Object(map) = value else { return None };
        if map.len() > 2 {
            return None;
        }
        match map.get_mut(key)? {
            Value::Array(items) => Some(std::mem::take(items)),
            _ => None,
        }
    }

    fn parse(&self, input: &mut Input<'_>, state: &mut ObjectState) -> Parse {
        match (&self.mode, input) {
            (Mode::Json { .. }, Input::Json(Value::Object(map))) => {
                if !self.matches(map) {
                    return Parse::NotMine;
                }
                match self.apply(map) {
                    Ok(event_time) => Parse::Event(Parsed {
                        fields: std::mem::take(map).into(),
                        event_time,
                        indicators: None,
                    }),
                    Err(reason) => Parse::Malformed(reason),
                }
            }
            (Mode::Csv(d), Input::Text(line)) => self.parse_delimited(d, line, state),
            (Mode::Regex(re), Input::Text(line)) => {
                let Some(caps) = re.captures(line) else { return Parse::NotMine };
                let mut map = Map::new();
                text::put_groups(re, &caps, &mut map, &self.nulls);
                self.finish_text(map)
            }
            (Mode::Kv { prefix, separator }, Input::Text(line)) => {
                self.parse_kv(prefix.as_ref(), *separator, line)
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
    use chrono::Utc;

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

    #[test]
    fn space_delimited_plain_columns_stay_text_with_the_same_view() {
        let yaml = r#"
name: Custom.Flow
parser: { csv: { delimiter: " ", quoted: false, columns: [version, srcaddr, bytes, start], skip_header: true } }
match: [{ field: version, equals: "2" }]
fields:
  - { name: srcaddr, indicators: [ip] }
  - { name: bytes, type: bigint }
  - { name: start, type: timestamp, time_format: unix, event_time: true }
"#;
        let parser = CustomParser::from_yaml(yaml, "test").expect("valid schema");
        assert!(matches!(&parser.mode, Mode::Csv(d) if d.fast.is_some()));
        let input = "version srcaddr bytes start\n2 010.0.0.1 40 1700000000\n2 - x 1700000000\n3 10.0.0.1 1 1\n2 10.0.0.2 - 1700000001\n";
        let (report, events) = run(&parser, input);
        assert_eq!((report.skipped, report.events, report.errors), (1, 2, 2));
        let e = events[0].to_json();
        assert_eq!(e["bytes"], 40);
        assert_eq!(e["p_any_ip_addresses"], serde_json::json!(["10.0.0.1"]));
        assert_eq!(e["p_event_time"], "2023-11-14 22:13:20.000000000");
        assert!(events[1].to_json().get("bytes").is_none());
        assert_eq!(report.first_errors[0].code, crate::RejectCode::Malformed);
        assert_eq!(report.first_errors[1].code, crate::RejectCode::Unclassified);
    }

    #[test]
    fn zeek_headers_name_the_columns_and_the_path_is_matched() {
        let yaml = r#"
name: Test.ZeekDns
parser: { csv: { delimiter: "\t", quoted: false, header: zeek } }
match: [{ field: _path, equals: dns }]
fields:
  - { name: ts, type: timestamp, time_format: unix, event_time: true }
  - { name: id.orig_h, indicators: [ip] }
  - { name: answers, type: array }
"#;
        let parser = CustomParser::from_yaml(yaml, "test").expect("valid schema");
        let dns = "#separator \\x09\n#path\tdns\n#fields\tts\tid.orig_h\tanswers\n1700000000.5\t10.1.1.1\ta.example,b.example\n1700000001.0\t-\t(empty)\n";
        let (report, events) = run(&parser, dns);
        assert_eq!((report.skipped, report.events, report.errors), (3, 2, 0));
        let e = events[0].to_json();
        assert_eq!(e["id"]["orig_h"], "10.1.1.1");
        assert_eq!(e["answers"], serde_json::json!(["a.example", "b.example"]));
        assert_eq!(e["p_event_time"], "2023-11-14 22:13:20.500000000");
        let conn = dns.replace("#path\tdns", "#path\tconn");
        let (report, _) = run(&parser, &conn);
        assert_eq!((report.events, report.errors), (0, 2));
    }

    #[test]
    fn key_values_after_a_prefix_and_first_line_headers_are_read() {
        let yaml = r#"
name: Test.Audit
parser: { kv: { prefix: '^type=(?P<type>\S+) msg=audit\((?P<time>[\d.]+):(?P<serial>\d+)\): ' } }
match: [{ field: type }]
fields:
  - { name: time, type: timestamp, time_format: unix, event_time: true }
  - { name: serial, type: bigint }
  - { name: addr, indicators: [ip] }
"#;
        let parser = CustomParser::from_yaml(yaml, "test").expect("valid schema");
        let line = "type=USER_LOGIN msg=audit(1700000000.123:42): pid=1 acct=\"root\" addr=192.0.2.1 res=failed\n";
        let (report, events) = run(&parser, line);
        assert_eq!(report.events, 1);
        let e = events[0].to_json();
        assert_eq!((e["acct"].as_str(), e["serial"].as_i64()), (Some("root"), Some(42)));
        assert_eq!(e["p_any_ip_addresses"][0], "192.0.2.1");

        let csv = r#"
name: Test.Login
parser: { csv: { header: first_line } }
match: [{ field: EVENT_TYPE, equals: Login }]
fields:
  - { name: TS, type: timestamp, time_format: "%Y%m%d%H%M%S%.3f", event_time: true }
"#;
        let parser = CustomParser::from_yaml(csv, "test").expect("valid schema");
        let input = "\"EVENT_TYPE\",\"TS\"\n\"Login\",\"20240501100000.250\"\n\"Logout\",\"20240501100000.250\"\n";
        let (report, events) = run(&parser, input);
        assert_eq!((report.skipped, report.events, report.errors), (1, 1, 1));
        assert_eq!(events[0].to_json()["p_event_time"], "2024-05-01 10:00:00.250000000");
    }

    #[test]
    fn json_match_conditions_test_nested_values_and_wrappers_are_split() {
        let yaml = r#"
name: Test.Items
parser: { json: { split: items } }
match:
  - { field: kind, equals: [a#b, c] }
  - { field: actor.email, regex: '@example\.com$' }
fields:
  - { name: id.time, type: timestamp, event_time: true }
  - { name: actor.email, indicators: [email] }
  - { name: events.count, type: bigint }
"#;
        let parser = CustomParser::from_yaml(yaml, "test").expect("valid schema");
        let ok = r#"{"kind":"a#b","actor":{"email":"Al@example.com"},"id":{"time":"2024-05-01T10:00:00Z"},"events":[{"count":"2"},{"count":3}]}"#;
        let other = ok.replace("a#b", "z");
        let broken = ok.replace("\"2\"", "\"two\"");
        let input = format!("{{\"version\":1,\"items\":[{ok},{other},{broken}]}}\n");
        let (report, events) = run(&parser, &input);
        assert_eq!((report.records, report.events, report.errors), (3, 1, 2));
        let e = events[0].to_json();
        assert_eq!(e["events"], serde_json::json!([{"count": 2}, {"count": 3}]));
        assert_eq!(e["p_any_emails"][0], "al@example.com");
        assert_eq!(report.first_errors[0].code, crate::RejectCode::Unclassified);
        assert_eq!(report.first_errors[1].code, crate::RejectCode::Malformed);
    }
}
