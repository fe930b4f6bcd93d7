//! `AWS.VPCFlow`: VPC (and Transit Gateway) flow log lines. The default v2 format has 14
//! fields; custom formats name their fields in a header line (`version account-id ...`),
//! which may repeat anywhere in a file. Without a header, a line is read with AWS's
//! canonical field order (v2..v8) or the Transit Gateway order. `-` means no value.

use std::sync::{Arc, LazyLock};

use serde_json::Map;

use super::util::{epoch, field_value, fields};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::columns::{self, ColumnType, Fields, MAX_COLUMNS, Record, SharedLayout};
use crate::indicators::{Field, Indicators, Kind, is_canonical_ipv4, parse_ip};
use crate::lake::{Column, LakeType};

pub(crate) struct VpcFlow;
pub(crate) static PARSER: VpcFlow = VpcFlow;

const LOG_TYPE: &str = "AWS.VPCFlow";

/// Every VPC flow log field in AWS's canonical order; the default v2 format is the first 14.
const CANONICAL: &[&str] = &[
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "tcp-flags",
    "type",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "region",
    "az-id",
    "sublocation-type",
    "sublocation-id",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
    "flow-direction",
    "traffic-path",
    "ecs-cluster-arn",
    "ecs-cluster-name",
    "ecs-container-instance-arn",
    "ecs-container-instance-id",
    "ecs-container-id",
    "ecs-second-container-id",
    "ecs-service-name",
    "ecs-task-definition-arn",
    "ecs-task-arn",
    "ecs-task-id",
    "reject-reason",
];
const DEFAULT_FIELDS: usize = 14;

/// Transit Gateway flow log fields in AWS's canonical order.
const TGW: &[&str] = &[
    "version",
    "resource-type",
    "account-id",
    "tgw-id",
    "tgw-attachment-id",
    "tgw-src-vpc-account-id",
    "tgw-dst-vpc-account-id",
    "tgw-src-vpc-id",
    "tgw-dst-vpc-id",
    "tgw-src-subnet-id",
    "tgw-dst-subnet-id",
    "tgw-src-eni",
    "tgw-dst-eni",
    "tgw-src-az-id",
    "tgw-dst-az-id",
    "tgw-pair-attachment-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "log-status",
    "type",
    "packets-lost-no-route",
    "packets-lost-blackhole",
    "packets-lost-mtu-exceeded",
    "packets-lost-ttl-expired",
    "tcp-flags-count",
    "region",
    "flow-direction",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
];

const NUMERIC: &[&str] = &[
    "version",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "tcp-flags",
    "traffic-path",
    "packets-lost-no-route",
    "packets-lost-blackhole",
    "packets-lost-mtu-exceeded",
    "packets-lost-ttl-expired",
    "tcp-flags-count",
];

static INDICATORS: LazyLock<Vec<IndicatorField>> = LazyLock::new(|| {
    fields(&[
        ("srcAddr", Kind::Ip),
        ("dstAddr", Kind::Ip),
        ("pktSrcAddr", Kind::Ip),
        ("pktDstAddr", Kind::Ip),
        ("account", Kind::AccountId),
        ("tgwSrcVpcAccountId", Kind::AccountId),
        ("tgwDstVpcAccountId", Kind::AccountId),
        ("instanceId", Kind::InstanceId),
        ("ecsContainerInstanceId", Kind::InstanceId),
        ("ecsClusterArn", Kind::Arn),
        ("ecsContainerInstanceArn", Kind::Arn),
        ("ecsTaskDefinitionArn", Kind::Arn),
        ("ecsTaskArn", Kind::Arn),
    ])
});

/// The output name of an AWS field: Panther's names (`srcAddr`, `account`, `status`),
/// otherwise camelCase.
fn output_name(aws: &str) -> String {
    match aws {
        "account-id" => return "account".into(),
        "log-status" => return "status".into(),
        "srcaddr" => return "srcAddr".into(),
        "dstaddr" => return "dstAddr".into(),
        "srcport" => return "srcPort".into(),
        "dstport" => return "dstPort".into(),
        "pkt-srcaddr" => return "pktSrcAddr".into(),
        "pkt-dstaddr" => return "pktDstAddr".into(),
        _ => {}
    }
    let mut out = String::with_capacity(aws.len());
    let mut upper = false;
    for c in aws.chars() {
        if c == '-' || c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A header line names fields: lower-case words with dashes, starting with `version` (the
/// default order) or all known field names (a custom order may start anywhere).
fn is_header(tokens: &[&str]) -> bool {
    let words = tokens.iter().all(|t| t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
    let known = |t: &&str| CANONICAL.contains(t) || TGW.contains(t);
    words && (tokens.first() == Some(&"version") || (tokens.len() >= 2 && tokens.iter().all(known)))
}

/// What parsing does with one column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Stored as is (or as a number).
    Plain,
    /// An address: a value that is not one means the line is not a flow log.
    Ip,
    /// `start`: the event time, epoch seconds.
    Start,
}

/// A field list, read once: per column its check and indicator kind, and the shared
/// record layout. Lines become [`Record`]s (no allocation per field); a list that names a
/// column twice is read into a JSON object instead, the last value winning.
#[derive(Debug)]
struct Layout {
    checks: Vec<Check>,
    /// The other indicator columns (addresses are taken while checking them), ordered so
    /// that indicators arrive sorted by array: ARNs, account ids, instance ids.
    indicators: Vec<(usize, Kind)>,
    /// `None` when two columns share an output name.
    record: Option<SharedLayout>,
    /// Output names and whether each is numeric, for the JSON-object fallback.
    names: Vec<(String, bool)>,
}

impl Layout {
    /// The layout of a header line's names.
    fn new<S: AsRef<str>>(names: &[S]) -> Self {
        Self::build(names, |layout| SharedLayout::Counted(Arc::new(layout)))
    }

    /// The layout of a built-in field list, made once for the whole process.
    fn built_in(names: &[&str]) -> Self {
        Self::build(names, |layout| SharedLayout::Static(Box::leak(Box::new(layout))))
    }

    fn build<S: AsRef<str>>(names: &[S], share: fn(columns::Layout) -> SharedLayout) -> Self {
        let mut checks = Vec::with_capacity(names.len());
        let mut indicators = Vec::with_capacity(names.len());
        let mut outs = Vec::with_capacity(names.len());
        for aws in names {
            let aws = aws.as_ref();
            let out = output_name(aws);
            checks.push(match aws {
                "srcaddr" | "dstaddr" | "pkt-srcaddr" | "pkt-dstaddr" => Check::Ip,
                "start" => Check::Start,
                _ => Check::Plain,
            });
            let kind = INDICATORS.iter().find(|f| f.path == out).map(|f| f.kind);
            if let Some(kind) = kind.filter(|k| *k != Kind::Ip) {
                indicators.push((checks.len() - 1, kind));
            }
            outs.push((out, NUMERIC.contains(&aws)));
        }
        let typed = outs
            .iter()
            .map(|(name, numeric)| {
                let ty = if *numeric { ColumnType::Number } else { ColumnType::Text };
                (name.clone(), ty)
            })
            .collect();
        indicators.sort_by_key(|&(_, kind)| match kind {
            Kind::Arn => 0,
            Kind::AccountId => 1,
            _ => 2,
        });
        let record = columns::Layout::new(typed).map(share);
        Layout { checks, indicators, record, names: outs }
    }

    /// Reads the columns `spans` of `line` (as many as the layout has, or fewer for the
    /// canonical lists, which are read as prefixes).
    fn parse(&self, line: &str, spans: &[(u32, u32)]) -> Parse {
        let text = |&(a, b): &(u32, u32)| line.get(a as usize..b as usize).unwrap_or_default();
        let mut start = None;
        // Room for two addresses and an account id without growing.
        let mut found = Indicators::with_capacity(64, 4);
        for (i, span) in spans.iter().enumerate() {
            let value = text(span);
            match self.checks.get(i) {
                Some(Check::Ip) if value != "-" => {
                    if is_canonical_ipv4(value) {
                        found.push(Field::IpAddress, value);
                    } else if let Some(ip) = parse_ip(value) {
                        found.push_ip(ip);
                    } else {
                        return Parse::NotMine;
                    }
                }
                Some(Check::Start) if value != "-" => {
                    match value.parse::<i64>().ok().and_then(epoch) {
                        Some(t) => start = Some(t),
                        None => return Parse::NotMine,
                    }
                }
                _ => {}
            }
        }
        for &(i, kind) in &self.indicators {
            if let Some(span) = spans.get(i) {
                found.add(kind, text(span));
            }
        }
        let fields = match &self.record {
            Some(layout) => Fields::Record(Record::new(layout.clone(), line)),
            None => {
                let mut map = Map::new();
                for ((name, numeric), span) in self.names.iter().zip(spans) {
                    match field_value(text(span), *numeric) {
                        Some(v) => map.insert(name.clone(), v),
                        None => map.remove(name),
                    };
                }
                Fields::Object(map)
            }
        };
        // Walked from the object when a column name repeats (the last value wins there).
        let indicators = self.record.is_some().then_some(found);
        Parse::Event(Parsed { fields, event_time: start, indicators })
    }
}

static CANONICAL_LAYOUT: LazyLock<Layout> = LazyLock::new(|| Layout::built_in(CANONICAL));
static TGW_LAYOUT: LazyLock<Layout> = LazyLock::new(|| Layout::built_in(TGW));

/// The table columns: every VPC and Transit Gateway field under its output name, numbers
/// as bigint, `start` and `end` as timestamps.
static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    let mut columns: Vec<Column> = Vec::new();
    for aws in CANONICAL.iter().chain(TGW) {
        let name = output_name(aws);
        if columns.iter().any(|c| c.name == name) {
            continue;
        }
        let kind = match *aws {
            "start" | "end" => LakeType::Timestamp,
            n if NUMERIC.contains(&n) => LakeType::Bigint,
            _ => LakeType::String,
        };
        columns.push(Column::new(name, kind));
    }
    columns
});

impl Parser for VpcFlow {
    fn log_type(&self) -> &str {
        LOG_TYPE
    }

    fn indicator_fields(&self) -> &[IndicatorField] {
        &INDICATORS
    }

    fn columns(&self) -> &[Column] {
        &COLUMNS
    }

    /// Text lines are offered by specificity too (#19): a VPC Flow line (a number first,
    /// 14+ columns, or a header of flow field names) goes here before the text schemas
    /// and S3 access, so a flow log does not pay a failed try of each per line.
    fn specificity(&self) -> u32 {
        5
    }

    fn parse(&self, input: &mut Input<'_>, state: &mut ObjectState) -> Parse {
        let Input::Text(line) = input else { return Parse::NotMine };
        let line: &str = line;
        let mut spans = [(0u32, 0u32); MAX_COLUMNS];
        let Some(n) = columns::split_tokens(line, &mut spans) else { return Parse::NotMine };
        let spans = &spans[..n];
        let token = |i: usize| spans.get(i).and_then(|&(a, b)| line.get(a as usize..b as usize));
        // Data lines start with a number; only word lines can be headers.
        let word = |t: &str| t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
        if token(0).is_some_and(word) {
            let tokens: Vec<&str> = (0..n).filter_map(token).collect();
            if is_header(&tokens) {
                state.headers.insert(LOG_TYPE, Arc::new(Layout::new(&tokens)));
                return Parse::Skip;
            }
        }
        if let Some(h) = state.headers.get(LOG_TYPE).and_then(|h| h.downcast_ref::<Layout>()) {
            // A header names the fields (any number, any order).
            return if h.checks.len() == n {
                h.parse(line, spans)
            } else {
                Parse::Malformed(format!(
                    "{n} fields, but the header line names {}",
                    h.checks.len()
                ))
            };
        }
        if n < DEFAULT_FIELDS || !token(0).is_some_and(|t| t.bytes().all(|b| b.is_ascii_digit())) {
            return Parse::NotMine;
        }
        if token(3).is_some_and(|t| t.starts_with("tgw-")) && n <= TGW.len() {
            TGW_LAYOUT.parse(line, spans)
        } else if n <= CANONICAL.len() {
            CANONICAL_LAYOUT.parse(line, spans)
        } else {
            Parse::NotMine
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::parsers::util::walk_map;

    fn parse(lines: &[&str]) -> Vec<Parsed> {
        let mut state = ObjectState::new(Utc::now());
        lines
            .iter()
            .filter_map(|line| match PARSER.parse(&mut Input::Text(line), &mut state) {
                Parse::Event(parsed) => Some(parsed),
                _ => None,
            })
            .collect()
    }

    fn walked(fields: &Fields) -> Indicators {
        let mut found = Indicators::default();
        let map = fields.to_map();
        for field in PARSER.indicator_fields() {
            walk_map(&map, &field.path, &mut |v| found.add_value(field.kind, v));
        }
        found.finish();
        found
    }

    #[test]
    fn indicators_taken_while_parsing_equal_walking_the_declared_fields() {
        let events = parse(&[
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 010.000.000.001 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
            "5 123456789010 eni-1 - - - - - - - 1418530010 1418530070 - NODATA vpc-1 subnet-1 i-0123456789abcdef0",
            "6 TransitGateway 123456789010 tgw-0123 tgw-attach-1 111122223333 444455556666 vpc-a vpc-b subnet-a subnet-b eni-a eni-b use1-az1 use1-az2 tgw-attach-2 10.0.0.1 10.0.0.2 80 443 6 1 40 1418530010 1418530070 OK IPv4 0 0 0 0 0 us-east-1 ingress - -",
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status instance-id ecs-task-arn pkt-srcaddr",
            "2 123456789010 eni-1 2001:db8::1 10.1.2.3 1 2 6 1 1 1418530010 1418530070 ACCEPT OK i-0123456789abcdef0 arn:aws:ecs:us-east-1:123456789010:task/c/1 10.9.9.9",
        ]);
        assert_eq!(events.len(), 4);
        for parsed in events {
            let mut fast = parsed.indicators.clone().expect("taken while parsing");
            fast.finish();
            assert_eq!(fast, walked(&parsed.fields), "{:?}", parsed.fields);
        }
    }

    #[test]
    fn fields_keep_their_names_numbers_and_time() {
        let events = parse(&[
            "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
        ]);
        let parsed = &events[0];
        assert!(matches!(parsed.fields, Fields::Record(_)), "no object built per line");
        let fields = parsed.fields.to_map();
        assert_eq!(fields["srcAddr"], "172.31.16.139");
        assert_eq!(fields["account"], "123456789010");
        assert_eq!(fields["dstPort"], 22);
        assert_eq!(fields["status"], "OK");
        assert_eq!(fields.len(), 14);
        assert_eq!(parsed.event_time.map(|t| t.timestamp()), Some(1418530010));
    }

    #[test]
    fn custom_headers_may_name_few_fields_in_any_order() {
        let events = parse(&[
            "srcaddr dstaddr action start",
            "10.0.0.1 10.0.0.2 REJECT 1418530010",
            "10.0.0.3 10.0.0.4 ACCEPT -",
        ]);
        assert_eq!(events.len(), 2);
        let first = events[0].fields.to_map();
        assert_eq!(first["srcAddr"], "10.0.0.1");
        assert_eq!(first["action"], "REJECT");
        assert_eq!(events[0].event_time.map(|t| t.timestamp()), Some(1418530010));
        let mut found = events[1].indicators.clone().expect("taken while parsing");
        found.finish();
        assert_eq!(found.get(Field::IpAddress), ["10.0.0.3", "10.0.0.4"]);
    }

    #[test]
    fn a_header_naming_a_column_twice_leaves_indicators_to_the_walk() {
        let events = parse(&[
            "version srcaddr srcaddr account-id dstaddr srcport dstport protocol packets bytes start end action log-status",
            "2 10.0.0.1 10.0.0.2 123456789010 10.0.0.3 1 2 6 1 1 1418530010 1418530070 ACCEPT OK",
        ]);
        assert!(events[0].indicators.is_none());
        assert_eq!(events[0].fields.get("srcAddr"), Some("10.0.0.2".into()), "the last value wins");
    }
}
