//! `AWS.ALB`: Elastic Load Balancing logs. Three line shapes share the type, told apart by
//! `logKind`: ALB access lines (`http`, `https`, `h2`, `grpcs`, `ws`, `wss`), NLB TLS
//! access lines (`tls 2.0 ...`) and ALB connection log lines (starting with a timestamp).
//! Fields AWS adds later are kept as `extraFields`.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::util::{fields, parse_time, put, split_quoted};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::{Kind, parse_ip};
use crate::lake::{Column, LakeType};

pub(crate) struct Alb;
pub(crate) static PARSER: Alb = Alb;

/// ALB access log fields after `type`; `client:port`, `target:port` and the request line
/// are split further.
const ACCESS: &[&str] = &[
    "type",
    "timestamp",
    "elb",
    "client:port",
    "target:port",
    "requestProcessingTime",
    "targetProcessingTime",
    "responseProcessingTime",
    "elbStatusCode",
    "targetStatusCode",
    "receivedBytes",
    "sentBytes",
    "request",
    "userAgent",
    "sslCipher",
    "sslProtocol",
    "targetGroupArn",
    "traceId",
    "domainName",
    "chosenCertArn",
    "matchedRulePriority",
    "requestCreationTime",
    "actionsExecuted",
    "redirectUrl",
    "errorReason",
    "targetPortList",
    "targetStatusCodeList",
    "classification",
    "classificationReason",
    "connTraceId",
];
const NLB: &[&str] = &[
    "type",
    "version",
    "timestamp",
    "elb",
    "listener",
    "client:port",
    "destination:port",
    "connectionTime",
    "tlsHandshakeTime",
    "receivedBytes",
    "sentBytes",
    "incomingTlsAlert",
    "chosenCertArn",
    "chosenCertSerial",
    "tlsCipher",
    "tlsProtocolVersion",
    "tlsNamedGroup",
    "domainName",
    "alpnFeProtocol",
    "alpnBeProtocol",
    "alpnClientPreferenceList",
    "tlsConnectionCreationTime",
];
const CONNECTION: &[&str] = &[
    "timestamp",
    "clientIp",
    "clientPort",
    "listenerPort",
    "tlsProtocol",
    "tlsCipher",
    "tlsHandshakeLatency",
    "leafClientCertSubject",
    "leafClientCertValidity",
    "leafClientCertSerialNumber",
    "tlsVerifyStatus",
    "connTraceId",
];
const NUMERIC: &[&str] = &[
    "requestProcessingTime",
    "targetProcessingTime",
    "responseProcessingTime",
    "elbStatusCode",
    "targetStatusCode",
    "receivedBytes",
    "sentBytes",
    "matchedRulePriority",
    "connectionTime",
    "tlsHandshakeTime",
    "clientPort",
    "listenerPort",
    "tlsHandshakeLatency",
];

static INDICATORS: LazyLock<Vec<IndicatorField>> = LazyLock::new(|| {
    fields(&[
        ("clientIp", Kind::Ip),
        ("targetIp", Kind::Ip),
        ("destinationIp", Kind::Ip),
        ("requestUrl", Kind::Url),
        ("domainName", Kind::Domain),
        ("targetGroupArn", Kind::Arn),
        ("chosenCertArn", Kind::Arn),
    ])
});

/// The table columns: every line shape's fields, with `host:port` and the request line
/// split as the parser splits them.
static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    let mut columns = vec![Column::new("logKind", LakeType::String)];
    for name in ACCESS.iter().chain(NLB).chain(CONNECTION) {
        let split: &[(&str, LakeType)] = match *name {
            "client:port" => &[("clientIp", LakeType::String), ("clientPort", LakeType::Bigint)],
            "target:port" => &[("targetIp", LakeType::String), ("targetPort", LakeType::Bigint)],
            "destination:port" => {
                &[("destinationIp", LakeType::String), ("destinationPort", LakeType::Bigint)]
            }
            "request" => &[
                ("requestHttpMethod", LakeType::String),
                ("requestUrl", LakeType::String),
                ("requestHttpVersion", LakeType::String),
            ],
            _ => &[],
        };
        let one;
        let split = if split.is_empty() {
            let kind = match *name {
                "timestamp" | "requestCreationTime" | "tlsConnectionCreationTime" => {
                    LakeType::Timestamp
                }
                "alpnClientPreferenceList" => LakeType::Json,
                n if NUMERIC.contains(&n) && (n.ends_with("Time") || n.ends_with("Latency")) => {
                    LakeType::Double
                }
                n if NUMERIC.contains(&n) => LakeType::Bigint,
                _ => LakeType::String,
            };
            one = [(*name, kind)];
            &one[..]
        } else {
            split
        };
        for (name, kind) in split {
            if !columns.iter().any(|c| c.name == *name) {
                columns.push(Column::new(*name, kind.clone()));
            }
        }
    }
    columns.push(Column::new("extraFields", LakeType::Array(Box::new(LakeType::String))));
    columns
});

impl Parser for Alb {
    fn log_type(&self) -> &str {
        "AWS.ALB"
    }

    fn indicator_fields(&self) -> &[IndicatorField] {
        &INDICATORS
    }

    fn columns(&self) -> &[Column] {
        &COLUMNS
    }

    fn parse(&self, input: &mut Input<'_>, _state: &mut ObjectState) -> Parse {
        let Input::Text(line) = input else { return Parse::NotMine };
        let Some(tokens) = split_quoted(line) else { return Parse::NotMine };
        let Some(first) = tokens.first() else { return Parse::NotMine };
        let (kind, names, time_index, min) = match *first {
            "http" | "https" | "h2" | "grpcs" | "ws" | "wss" => ("access", ACCESS, 1, 13),
            "tls" => ("nlb", NLB, 2, 11),
            _ if tokens.len() >= 11 && parse_ip(tokens.get(1).unwrap_or(&"")).is_some() => {
                ("connection", CONNECTION, 0, 11)
            }
            _ => return Parse::NotMine,
        };
        if tokens.len() < min {
            return Parse::NotMine;
        }
        let Some(time) = parse_time(tokens[time_index]) else { return Parse::NotMine };
        let mut map = Map::new();
        map.insert("logKind".into(), kind.into());
        for (name, value) in names.iter().zip(&tokens) {
            match *name {
                "client:port" | "target:port" | "destination:port" => {
                    let prefix = &name[..name.len() - 5];
                    if let Some((host, port)) = value.rsplit_once(':') {
                        put(&mut map, &format!("{prefix}Ip"), host, false);
                        put(&mut map, &format!("{prefix}Port"), port, true);
                    } else {
                        put(&mut map, &format!("{prefix}Ip"), value, false);
                    }
                }
                "request" => {
                    let mut parts = value.splitn(3, ' ');
                    put(&mut map, "requestHttpMethod", parts.next().unwrap_or(""), false);
                    put(&mut map, "requestUrl", parts.next().unwrap_or(""), false);
                    put(&mut map, "requestHttpVersion", parts.next().unwrap_or(""), false);
                }
                // NLB's `"h2","http/1.1"`: the protocols the client offered, in its order.
                "alpnClientPreferenceList" if value.starts_with('"') => {
                    let list: Vec<Value> =
                        value.split(',').map(|p| Value::from(p.trim_matches('"'))).collect();
                    map.insert((*name).into(), list.into());
                }
                // -1 means "no answer" in ALB timing fields.
                _ if *value == "-1" && name.ends_with("Time") => {}
                _ => put(&mut map, name, value, NUMERIC.contains(name)),
            }
        }
        if tokens.len() > names.len() {
            let extra: Vec<Value> = tokens[names.len()..].iter().map(|s| Value::from(*s)).collect();
            map.insert("extraFields".into(), extra.into());
        }
        Parse::Event(Parsed { fields: map.into(), event_time: Some(time), indicators: None })
    }
}
