//! `AWS.VPCFlow`: VPC (and Transit Gateway) flow log lines. The default v2 format has 14
//! fields; custom formats name their fields in a header line (`version account-id ...`),
//! which may repeat anywhere in a file. Without a header, a line is read with AWS's
//! canonical field order (v2..v8) or the Transit Gateway order. `-` means no value.

use std::sync::LazyLock;

use serde_json::Map;

use super::util::{epoch, fields, put};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::{Kind, parse_ip};

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

/// Output names of the canonical lists, computed once.
static CANONICAL_OUT: LazyLock<Vec<String>> =
    LazyLock::new(|| CANONICAL.iter().map(|n| output_name(n)).collect());
static TGW_OUT: LazyLock<Vec<String>> =
    LazyLock::new(|| TGW.iter().map(|n| output_name(n)).collect());

impl Parser for VpcFlow {
    fn log_type(&self) -> &str {
        LOG_TYPE
    }

    fn indicator_fields(&self) -> &[IndicatorField] {
        &INDICATORS
    }

    fn parse(&self, input: &mut Input<'_>, state: &mut ObjectState) -> Parse {
        let Input::Text(line) = input else { return Parse::NotMine };
        let tokens: Vec<&str> = line.split_ascii_whitespace().collect();
        if is_header(&tokens) {
            state.headers.insert(LOG_TYPE.into(), tokens.iter().map(|t| t.to_string()).collect());
            return Parse::Skip;
        }
        if tokens.len() < DEFAULT_FIELDS || !tokens[0].bytes().all(|b| b.is_ascii_digit()) {
            return Parse::NotMine;
        }
        let header_out: Vec<String>;
        let (aws, out): (Vec<&str>, Vec<&str>) = match state.headers.get(LOG_TYPE) {
            Some(h) if h.len() == tokens.len() => {
                header_out = h.iter().map(|n| output_name(n)).collect();
                (
                    h.iter().map(String::as_str).collect(),
                    header_out.iter().map(String::as_str).collect(),
                )
            }
            Some(h) => {
                return Parse::Malformed(format!(
                    "{} fields, but the header line names {}",
                    tokens.len(),
                    h.len()
                ));
            }
            None if tokens[3].starts_with("tgw-") && tokens.len() <= TGW.len() => (
                TGW[..tokens.len()].to_vec(),
                TGW_OUT[..tokens.len()].iter().map(String::as_str).collect(),
            ),
            None if tokens.len() <= CANONICAL.len() => (
                CANONICAL[..tokens.len()].to_vec(),
                CANONICAL_OUT[..tokens.len()].iter().map(String::as_str).collect(),
            ),
            None => return Parse::NotMine,
        };
        let mut map = Map::new();
        let mut start = None;
        for ((name, out), value) in aws.iter().zip(&out).zip(&tokens) {
            match *name {
                "srcaddr" | "dstaddr" | "pkt-srcaddr" | "pkt-dstaddr"
                    if *value != "-" && parse_ip(value).is_none() =>
                {
                    return Parse::NotMine;
                }
                "start" if *value != "-" => match value.parse::<i64>().ok().and_then(epoch) {
                    Some(t) => start = Some(t),
                    None => return Parse::NotMine,
                },
                _ => {}
            }
            put(&mut map, out, value, NUMERIC.contains(name));
        }
        Parse::Event(Parsed { fields: map, event_time: start })
    }
}
