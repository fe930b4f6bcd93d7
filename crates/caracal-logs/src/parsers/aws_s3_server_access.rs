//! `AWS.S3ServerAccess`: S3 server access log lines. Space-separated, with `[time]` and
//! `"quoted"` fields (or already split into a JSON object); older lines have fewer trailing fields than newer ones, and fields
//! AWS adds later are kept as `extraFields`.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::util::{fields, has_all, object, put, split_quoted, take_object, value_time};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::Kind;
use crate::lake::{Column, LakeType};

pub(crate) struct S3ServerAccess;
pub(crate) static PARSER: S3ServerAccess = S3ServerAccess;

/// Field names in log order (names as Panther's schema spells them).
const NAMES: &[&str] = &[
    "bucketowner",
    "bucket",
    "time",
    "remoteip",
    "requester",
    "requestid",
    "operation",
    "key",
    "requesturi",
    "httpstatus",
    "errorcode",
    "bytessent",
    "objectsize",
    "totaltime",
    "turnaroundtime",
    "referrer",
    "useragent",
    "versionid",
    "hostid",
    "signatureversion",
    "ciphersuite",
    "authenticationtype",
    "hostheader",
    "tlsVersion",
    "accesspointarn",
    "aclrequired",
];
const NUMERIC: &[&str] = &["httpstatus", "bytessent", "objectsize", "totaltime", "turnaroundtime"];
/// The fields every line has had since the format began.
const MIN_FIELDS: usize = 18;

static INDICATORS: LazyLock<Vec<IndicatorField>> = LazyLock::new(|| {
    fields(&[
        ("remoteip", Kind::Ip),
        ("requester", Kind::Arn),
        ("accesspointarn", Kind::Arn),
        ("hostheader", Kind::Domain),
    ])
});

/// The table columns: the fields in log order, numbers as bigint, `time` a timestamp.
static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    let mut columns: Vec<Column> = NAMES
        .iter()
        .map(|name| {
            let kind = match *name {
                "time" => LakeType::Timestamp,
                n if NUMERIC.contains(&n) => LakeType::Bigint,
                _ => LakeType::String,
            };
            Column::new(*name, kind)
        })
        .collect();
    columns.push(Column::new("extraFields", LakeType::Array(Box::new(LakeType::String))));
    columns
});

impl Parser for S3ServerAccess {
    fn log_type(&self) -> &str {
        "AWS.S3ServerAccess"
    }

    fn indicator_fields(&self) -> &[IndicatorField] {
        &INDICATORS
    }

    fn columns(&self) -> &[Column] {
        &COLUMNS
    }

    fn specificity(&self) -> u32 {
        4
    }

    fn parse(&self, input: &mut Input<'_>, _state: &mut ObjectState) -> Parse {
        if let Some(map) = object(input) {
            // Already split into named fields (as Panther and Firehose pipelines store it).
            if !has_all(map, &["bucketowner", "bucket", "operation", "requestid"]) {
                return Parse::NotMine;
            }
            let event_time = value_time(map.get("time"));
            return Parse::Event(Parsed {
                fields: take_object(input).into(),
                event_time,
                indicators: None,
            });
        }
        let Input::Text(line) = input else { return Parse::NotMine };
        let Some(tokens) = split_quoted(line) else { return Parse::NotMine };
        if tokens.len() < MIN_FIELDS
            || !tokens[0].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Parse::NotMine;
        }
        let Ok(time) = DateTime::parse_from_str(tokens[2], "%d/%b/%Y:%H:%M:%S %z") else {
            return Parse::NotMine;
        };
        if !(tokens[9] == "-" || tokens[9].parse::<u16>().is_ok()) {
            return Parse::NotMine;
        }
        let mut map = Map::new();
        for (name, value) in NAMES.iter().zip(&tokens) {
            if *name == "time" {
                continue;
            }
            put(&mut map, name, value, NUMERIC.contains(name));
        }
        let time = time.with_timezone(&Utc);
        map.insert("time".into(), time.to_rfc3339().into());
        if tokens.len() > NAMES.len() {
            let extra: Vec<Value> = tokens[NAMES.len()..].iter().map(|s| Value::from(*s)).collect();
            map.insert("extraFields".into(), extra.into());
        }
        Parse::Event(Parsed { fields: map.into(), event_time: Some(time), indicators: None })
    }
}
