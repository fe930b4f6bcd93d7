//! `AWS.GuardDuty`: findings, bare or inside an EventBridge envelope ("GuardDuty Finding").
//! `{"findings":[...]}` lists (GetFindings output) are split into their findings.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::util::{eventbridge_detail, fields, has_all, object, take_object, value_time};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::Kind;
use crate::lake::Column;

pub(crate) struct GuardDuty;
pub(crate) static PARSER: GuardDuty = GuardDuty;

static INDICATORS: LazyLock<Vec<IndicatorField>> = LazyLock::new(|| {
    fields(&[
        ("accountId", Kind::AccountId),
        ("arn", Kind::Arn),
        ("resource.instanceDetails.instanceId", Kind::InstanceId),
        ("resource.instanceDetails.networkInterfaces.privateIpAddress", Kind::Ip),
        ("resource.instanceDetails.networkInterfaces.publicIp", Kind::Ip),
        ("resource.instanceDetails.networkInterfaces.privateDnsName", Kind::Domain),
        ("resource.instanceDetails.networkInterfaces.publicDnsName", Kind::Domain),
        ("resource.accessKeyDetails.userName", Kind::Username),
        ("resource.accessKeyDetails.principalId", Kind::Username),
        ("service.action.awsApiCallAction.remoteIpDetails.ipAddressV4", Kind::Ip),
        ("service.action.networkConnectionAction.remoteIpDetails.ipAddressV4", Kind::Ip),
        ("service.action.networkConnectionAction.localIpDetails.ipAddressV4", Kind::Ip),
        ("service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4", Kind::Ip),
        ("service.action.kubernetesApiCallAction.remoteIpDetails.ipAddressV4", Kind::Ip),
        ("service.action.rdsLoginAttemptAction.remoteIpDetails.ipAddressV4", Kind::Ip),
        ("service.action.dnsRequestAction.domain", Kind::Domain),
        ("resource", Kind::Scan),
    ])
});

/// A finding has a `type` and a `severity` and says it is GuardDuty's: by its `arn` or by
/// `service.serviceName` (#11.12: `type` and `severity` alone are in many logs).
fn is_finding(map: &Map<String, Value>) -> bool {
    has_all(map, &["type", "severity"])
        && (map.get("arn").and_then(Value::as_str).is_some_and(|a| a.contains(":guardduty:"))
            || map
                .get("service")
                .and_then(|s| s.get("serviceName"))
                .is_some_and(|n| n == "guardduty"))
}

static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    super::util::declare(
        "\
         accountId string\n\
         arn string\n\
         createdAt timestamp\n\
         description string\n\
         id string\n\
         partition string\n\
         region string\n\
         resource json\n\
         schemaVersion string\n\
         service json\n\
         severity double\n\
         title string\n\
         type string\n\
         updatedAt timestamp\n\
         ",
    )
});

impl Parser for GuardDuty {
    fn log_type(&self) -> &str {
        "AWS.GuardDuty"
    }

    fn indicator_fields(&self) -> &[IndicatorField] {
        &INDICATORS
    }

    fn columns(&self) -> &[Column] {
        &COLUMNS
    }

    fn specificity(&self) -> u32 {
        3
    }

    fn split(&self, value: &mut Value) -> Option<Vec<Value>> {
        let Value::Object(map) = value else { return None };
        if map.len() != 1 {
            return None;
        }
        match map.get_mut("findings")? {
            Value::Array(items) => Some(std::mem::take(items)),
            _ => None,
        }
    }

    fn parse(&self, input: &mut Input<'_>, _state: &mut ObjectState) -> Parse {
        let Some(map) = object(input) else { return Parse::NotMine };
        let detail = eventbridge_detail(map, "aws.guardduty").filter(|d| is_finding(d));
        let finding = match detail {
            Some(d) => d,
            None if is_finding(map) => map,
            None => return Parse::NotMine,
        };
        let event_time = value_time(finding.get("updatedAt").or(finding.get("createdAt")));
        let wrapped = detail.is_some();
        let mut fields = take_object(input);
        if wrapped {
            fields = match fields.remove("detail") {
                Some(Value::Object(d)) => d,
                _ => Map::new(),
            };
        }
        Parse::Event(Parsed { fields: fields.into(), event_time, indicators: None })
    }
}
