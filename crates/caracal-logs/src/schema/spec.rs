//! The YAML form of a custom log type, as users and the bundled `schemas/` folder write it.

use serde::Deserialize;

/// A custom log type as written in YAML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSchema {
    /// The log type name, such as `Custom.WebApp`.
    pub name: String,
    /// What the log type is, for `caracal logs types`.
    #[serde(default)]
    pub description: Option<String>,
    /// Where the format is documented.
    #[serde(default)]
    pub reference: Option<String>,
    /// How records are split into fields.
    pub parser: ParserSpec,
    /// Conditions a record must meet to be of this type (all of them).
    #[serde(default, rename = "match")]
    pub conditions: Vec<MatchSpec>,
    /// Overrides the computed specificity: catch-all types (an EventBridge envelope of any
    /// source) set it low so that the types they would swallow are tried first.
    #[serde(default)]
    pub specificity: Option<u32>,
    /// The fields, with their types and roles.
    pub fields: Vec<FieldSpec>,
}

/// How records are split into fields: exactly one of `json`, `csv`, `regex`, `kv`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParserSpec {
    /// One JSON object per record.
    #[serde(default)]
    pub json: Option<JsonSpec>,
    /// Delimited values (CSV, TSV, space-separated).
    #[serde(default)]
    pub csv: Option<CsvSpec>,
    /// A regular expression with named groups.
    #[serde(default)]
    pub regex: Option<String>,
    /// `key=value` pairs, after an optional prefix.
    #[serde(default)]
    pub kv: Option<KvSpec>,
    /// Values that mean "no value" in text formats (default `""` and `-`); such fields
    /// are left out.
    #[serde(default)]
    pub null_values: Option<Vec<String>>,
}

/// JSON records.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSpec {
    /// A document holding the records in an array under this key (AWS Config history's
    /// `configurationItems`) is split into them.
    #[serde(default)]
    pub split: Option<String>,
}

/// Where the column names of delimited values come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderStyle {
    /// `columns` names them; no header line.
    #[default]
    None,
    /// `columns` names them; a line equal to the joined column names is skipped.
    Skip,
    /// The first line of each object names them (it must name the matched fields).
    FirstLine,
    /// Zeek's `#separator`, `#fields`, `#path` lines; `_path` is added to each record.
    Zeek,
    /// W3C extended log format (`#Fields: date time c-ip ...`, CloudFront); names are
    /// lowercased with `-` and `(...)` made `_` (`cs(Host)` is `cs_host`).
    W3c,
}

/// Delimited values.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvSpec {
    /// The delimiter, one character (default `,`); `" "` splits on runs of whitespace.
    #[serde(default = "comma")]
    pub delimiter: char,
    /// Values may be `"quoted"` (with `""` for a quote); default true.
    #[serde(default = "yes")]
    pub quoted: bool,
    /// Column names in order (unless a header names them). A dotted name (`id.orig_h`)
    /// becomes a nested field.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Lines equal to the joined column names are headers and skipped (`header: skip`).
    #[serde(default)]
    pub skip_header: bool,
    /// Where the column names come from.
    #[serde(default)]
    pub header: HeaderStyle,
    /// A regex the line must start with (a syslog header); its named groups become fields
    /// and the rest of the line is split.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Lines with more values than columns are read (the extra ones dropped) instead of
    /// not being of this type.
    #[serde(default)]
    pub extra_columns: bool,
}

/// `key=value` pairs separated by whitespace; values may be `"quoted"` or `'quoted'`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KvSpec {
    /// A regex the line must start with; its named groups become fields.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Between a key and its value (default `=`).
    #[serde(default = "equals")]
    pub separator: char,
}

/// One condition of a `match` clause: the field is present (and not null or empty) and,
/// when given, its value equals one of `equals`, starts with `prefix` or matches `regex`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// The field path (dots between keys).
    pub field: String,
    /// Allowed values (a string or a list).
    #[serde(default)]
    pub equals: Option<OneOrMany>,
    /// A prefix the value starts with.
    #[serde(default)]
    pub prefix: Option<String>,
    /// A regex the value matches.
    #[serde(default)]
    pub regex: Option<String>,
}

/// One string or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One value.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values as a list.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// A field's value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Text (numbers and booleans are made text).
    String,
    /// A 64-bit integer.
    Bigint,
    /// A float.
    Float,
    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    Boolean,
    /// A time, read with `time_format`; the value is kept as written.
    Timestamp,
    /// Any JSON value, kept as is.
    Json,
    /// A JSON document inside a string (Duo's `description`), parsed into its value.
    JsonString,
    /// A list from text split at `separator` (default `,`); a JSON array stays one.
    Array,
    /// `k1=v1,k2=v2` text (Sysmon's `Hashes`) made an object; `separator` between pairs
    /// (default `,`), `=` inside them.
    KvString,
}

/// One field of a custom schema.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The field path: a JSON key (dots between nested keys, arrays walked into), a CSV
    /// column or a regex group.
    pub name: String,
    /// Its type (default `string`).
    #[serde(rename = "type", default = "string_type")]
    pub kind: FieldType,
    /// What the field holds, for people.
    #[serde(default)]
    pub description: Option<String>,
    /// For timestamps: `rfc3339`, `auto`, `unix`, `unix_ms`, `unix_us`, `unix_ns` or a
    /// strftime pattern (`%d/%b/%Y:%H:%M:%S %z`; UTC when it has no zone).
    #[serde(default)]
    pub time_format: Option<String>,
    /// This field is `p_event_time`; a record of this type without it is malformed.
    #[serde(default)]
    pub event_time: bool,
    /// The record must have this field to be of this type (a `match` condition).
    #[serde(default)]
    pub required: bool,
    /// Built from these fields joined by a space (CloudFront's `date` and `time`).
    #[serde(default)]
    pub from: Vec<String>,
    /// For `array` and `kv_string`: the separator between items.
    #[serde(default)]
    pub separator: Option<String>,
    /// Indicator kinds this field feeds.
    #[serde(default)]
    pub indicators: Vec<String>,
}

fn string_type() -> FieldType {
    FieldType::String
}

fn comma() -> char {
    ','
}

fn equals() -> char {
    '='
}

fn yes() -> bool {
    true
}
