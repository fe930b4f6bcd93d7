//! `AWS.VPCFlow`: VPC (and Transit Gateway) flow log lines. The default v2 format has 14
//! fields; custom formats name their fields in a header line (`version account-id ...`),
//! which may repeat anywhere in a file. Without a header, a line is read with AWS's
//! canonical field order (v2..v8) or the Transit Gateway order. `-` means no value.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::util::{epoch, field_value, fields};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::{Indicators, Kind, parse_ip};

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

fn is_header(tokens: &[&str]) -> bool {
    tokens.first() == Some(&"version")
        && tokens.iter().all(|t| t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
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

/// One column of a layout: its output name and how its values are read.
#[derive(Debug)]
struct Column {
    out: String,
    numeric: bool,
    check: Check,
    indicator: Option<Kind>,
}

/// The columns of a field list, computed once per list, plus the column indexes in the
/// order of their output names (so the field map is built from sorted keys).
#[derive(Debug)]
struct Layout {
    columns: Vec<Column>,
    sorted: Vec<usize>,
    /// No two columns share an output name, so indicators can be taken per column.
    distinct: bool,
}

impl Layout {
    fn new<S: AsRef<str>>(names: &[S]) -> Self {
        let columns: Vec<Column> = names
            .iter()
            .map(|aws| {
                let aws = aws.as_ref();
                let out = output_name(aws);
                let check = match aws {
                    "srcaddr" | "dstaddr" | "pkt-srcaddr" | "pkt-dstaddr" => Check::Ip,
                    "start" => Check::Start,
                    _ => Check::Plain,
                };
                let indicator = INDICATORS.iter().find(|f| f.path == out).map(|f| f.kind);
                Column { out, numeric: NUMERIC.contains(&aws), check, indicator }
            })
            .collect();
        let mut sorted: Vec<usize> = (0..columns.len()).collect();
        sorted.sort_by(|&a, &b| columns[a].out.cmp(&columns[b].out));
        let distinct = sorted.windows(2).all(|w| columns[w[0]].out != columns[w[1]].out);
        Layout { columns, sorted, distinct }
    }

    /// Reads `tokens` (as many as the layout has columns, or fewer for the canonical
    /// lists, which are read as prefixes).
    fn parse(&self, tokens: &[&str]) -> Parse {
        let mut start = None;
        for (column, value) in self.columns.iter().zip(tokens) {
            match column.check {
                Check::Ip if *value != "-" && parse_ip(value).is_none() => return Parse::NotMine,
                Check::Start if *value != "-" => match value.parse::<i64>().ok().and_then(epoch) {
                    Some(t) => start = Some(t),
                    None => return Parse::NotMine,
                },
                _ => {}
            }
        }
        let mut indicators = self.distinct.then(Box::<Indicators>::default);
        let mut fields = Vec::with_capacity(tokens.len());
        for &i in self.sorted.iter().filter(|&&i| i < tokens.len()) {
            let (column, value) = (&self.columns[i], tokens[i]);
            if let (Some(found), Some(kind)) = (indicators.as_mut(), column.indicator) {
                found.add(kind, value);
            }
            if let Some(v) = field_value(value, column.numeric) {
                fields.push((column.out.clone(), v));
            }
        }
        // Keys arrive sorted, so the map is built without searching.
        let fields: Map<String, Value> = fields.into_iter().collect();
        Parse::Event(Parsed { fields, event_time: start, indicators })
    }
}

static CANONICAL_LAYOUT: LazyLock<Layout> = LazyLock::new(|| Layout::new(CANONICAL));
static TGW_LAYOUT: LazyLock<Layout> = LazyLock::new(|| Layout::new(TGW));

impl Parser for VpcFlow {
    fn log_type(&self) -> &str {
        LOG_TYPE
    }

    fn indicator_fields(&self) -> &[IndicatorField] {
        &INDICATORS
    }

    fn parse(&self, input: &mut Input<'_>, state: &mut ObjectState) -> Parse {
        let Input::Text(line) = input else { return Parse::NotMine };
        // Sized for the longest canonical list, so the split does not reallocate.
        let mut tokens: Vec<&str> = Vec::with_capacity(CANONICAL.len());
        tokens.extend(line.split_ascii_whitespace());
        if is_header(&tokens) {
            state.headers.insert(LOG_TYPE.into(), tokens.iter().map(|t| t.to_string()).collect());
            return Parse::Skip;
        }
        if tokens.len() < DEFAULT_FIELDS || !tokens[0].bytes().all(|b| b.is_ascii_digit()) {
            return Parse::NotMine;
        }
        match state.headers.get(LOG_TYPE) {
            Some(h) if h.len() == tokens.len() => Layout::new(h).parse(&tokens),
            Some(h) => Parse::Malformed(format!(
                "{} fields, but the header line names {}",
                tokens.len(),
                h.len()
            )),
            None if tokens[3].starts_with("tgw-") && tokens.len() <= TGW.len() => {
                TGW_LAYOUT.parse(&tokens)
            }
            None if tokens.len() <= CANONICAL.len() => CANONICAL_LAYOUT.parse(&tokens),
            None => Parse::NotMine,
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

    fn walked(fields: &Map<String, Value>) -> Indicators {
        let mut found = Indicators::default();
        for field in PARSER.indicator_fields() {
            walk_map(fields, &field.path, &mut |v| found.add_value(field.kind, v));
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
            let mut fast = *parsed.indicators.clone().expect("taken while parsing");
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
        assert_eq!(parsed.fields["srcAddr"], "172.31.16.139");
        assert_eq!(parsed.fields["account"], "123456789010");
        assert_eq!(parsed.fields["dstPort"], 22);
        assert_eq!(parsed.fields["status"], "OK");
        assert_eq!(parsed.fields.len(), 14);
        assert_eq!(parsed.event_time.map(|t| t.timestamp()), Some(1418530010));
    }

    #[test]
    fn a_header_naming_a_column_twice_leaves_indicators_to_the_walk() {
        let events = parse(&[
            "version srcaddr srcaddr account-id dstaddr srcport dstport protocol packets bytes start end action log-status",
            "2 10.0.0.1 10.0.0.2 123456789010 10.0.0.3 1 2 6 1 1 1418530010 1418530070 ACCEPT OK",
        ]);
        assert!(events[0].indicators.is_none());
        assert_eq!(events[0].fields["srcAddr"], "10.0.0.2", "the last value wins, as before");
    }
}
