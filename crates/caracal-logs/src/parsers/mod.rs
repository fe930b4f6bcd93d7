//! One module per log type and one table, [`PARSERS`]. A new log type is a module, a line
//! in the table and samples in `tests/data/<LogType>/`.

mod aws_alb;
mod aws_cloudtrail;
mod aws_guardduty;
mod aws_s3_server_access;
mod aws_vpc_dns;
mod aws_vpc_flow;
mod aws_waf_web_acl;
mod okta_system_log;
mod osquery;
mod suricata;
mod syslog;
pub(crate) mod util;

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::columns::Fields;
use crate::indicators::{Indicators, Kind};
use crate::lake::Column;

/// One input record handed to parsers: a JSON value or a text line.
#[derive(Debug)]
pub enum Input<'a> {
    /// A JSON value. A parser that claims it takes it (`std::mem::take`) only after it has
    /// decided the value is valid, so the next candidate sees it intact otherwise.
    Json(Value),
    /// One text line, without its line ending.
    Text(&'a str),
}

/// A parser's answer for one record.
#[derive(Debug)]
pub enum Parse {
    /// Not this log type; try the next candidate.
    NotMine,
    /// This log type, but not an event (a header line, a digest file): not counted.
    Skip,
    /// An event.
    Event(Parsed),
    /// This log type, but malformed: the reason.
    Malformed(String),
}

/// The fields of one parsed record and its own time.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The log's fields.
    pub fields: Fields,
    /// The log's own time, when it has one.
    pub event_time: Option<DateTime<Utc>>,
    /// The indicators of the fields [`Parser::indicator_fields`] declares, when the parser
    /// extracted them itself while parsing (a fast path; they must equal what walking
    /// those fields gives). `None`: [`crate::normalize()`] walks the declared fields.
    pub indicators: Option<Indicators>,
}

/// A field path (dots between keys; arrays are walked into) and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorField {
    /// Such as `userIdentity.arn` or `resources.ARN`.
    pub path: String,
    /// How to read its values.
    pub kind: Kind,
}

/// What a parser may remember while reading one object (VPC Flow header lines, the
/// year that RFC 3164 syslog leaves out).
#[derive(Debug)]
pub struct ObjectState {
    /// A time near when the object was written (S3 LastModified, file mtime); syslog
    /// without a year takes its year from here.
    pub reference_time: DateTime<Utc>,
    /// What a parser made of the latest header line, per log type (VPC Flow: its
    /// column layout), so each line does not redo it.
    pub headers: HashMap<&'static str, Arc<dyn Any + Send + Sync>>,
}

impl ObjectState {
    /// A fresh state for one object.
    pub fn new(reference_time: DateTime<Utc>) -> Self {
        ObjectState { reference_time, headers: HashMap::new() }
    }
}

/// A log type's parser. Built-in ones live in [`PARSERS`]; custom YAML schemas implement
/// it too ([`crate::schema::CustomParser`]).
pub trait Parser: Send + Sync {
    /// The log type, such as `AWS.VPCFlow`.
    fn log_type(&self) -> &str;
    /// The fields the indicator arrays are filled from.
    fn indicator_fields(&self) -> &[IndicatorField];
    /// The typed columns of this log type's lake table (see [`crate::lake`]); fields it
    /// does not declare are kept in the table's `extra` column.
    fn columns(&self) -> &[Column];
    /// Parses one record, or says it is not of this type.
    fn parse(&self, input: &mut Input<'_>, state: &mut ObjectState) -> Parse;
    /// How many distinguishing fields a JSON record must hold for this parser to claim it.
    /// The classifier offers a JSON record to the most specific parsers first, so a record
    /// two parsers could claim goes to the one that asks more of it. Text-only parsers
    /// keep 0.
    fn specificity(&self) -> u32 {
        0
    }
    /// Splits a document that wraps several records of this type (GuardDuty's
    /// `{"findings":[...]}`) into them; `None`, leaving `value` as it was, when it is not
    /// such a wrapper. The reader asks each candidate about a JSON document that is an
    /// object of one key, before classifying it.
    fn split(&self, value: &mut Value) -> Option<Vec<Value>> {
        let _ = value;
        None
    }
}

/// Every built-in parser, sorted by log type.
pub static PARSERS: &[&dyn Parser] = &[
    &aws_alb::PARSER,
    &aws_cloudtrail::PARSER,
    &aws_guardduty::PARSER,
    &aws_s3_server_access::PARSER,
    &aws_vpc_dns::PARSER,
    &aws_vpc_flow::PARSER,
    &aws_waf_web_acl::PARSER,
    &okta_system_log::PARSER,
    &osquery::DIFFERENTIAL,
    &osquery::SNAPSHOT,
    &suricata::PARSER,
    &syslog::RFC3164,
    &syslog::RFC5424,
];

/// The built-in parser for `log_type`.
pub fn parser(log_type: &str) -> Option<&'static dyn Parser> {
    PARSERS.iter().copied().find(|p| p.log_type() == log_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers_are_sorted_unique_and_declare_indicators() {
        assert!(PARSERS.windows(2).all(|w| w[0].log_type() < w[1].log_type()));
        assert!(PARSERS.iter().all(|p| !p.indicator_fields().is_empty()));
    }

    #[test]
    fn every_parser_declares_its_columns() {
        for p in PARSERS {
            let columns = p.columns();
            assert!(columns.len() >= 4, "{}: {columns:?}", p.log_type());
            let mut names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            names.sort_unstable();
            assert!(names.windows(2).all(|w| w[0] != w[1]), "{}: {names:?}", p.log_type());
        }
    }

    #[test]
    fn no_parser_claims_an_empty_object_or_a_blank_line() {
        let mut state = ObjectState::new(Utc::now());
        for p in PARSERS {
            let mut json = Input::Json(Value::Object(serde_json::Map::new()));
            assert!(matches!(p.parse(&mut json, &mut state), Parse::NotMine), "{}", p.log_type());
            let mut text = Input::Text("");
            assert!(matches!(p.parse(&mut text, &mut state), Parse::NotMine), "{}", p.log_type());
        }
    }
}
