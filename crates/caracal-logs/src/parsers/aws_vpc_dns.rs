//! `AWS.VPCDns`: Route 53 Resolver query logs (JSON, one query per line).

use std::sync::LazyLock;

use super::util::{fields, has_all, object, take_object, value_time};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::Kind;

pub(crate) struct VpcDns;
pub(crate) static PARSER: VpcDns = VpcDns;

static INDICATORS: LazyLock<Vec<IndicatorField>> = LazyLock::new(|| {
    fields(&[
        ("account_id", Kind::AccountId),
        ("srcaddr", Kind::Ip),
        ("query_name", Kind::Domain),
        ("answers.Rdata", Kind::Host),
        ("srcids.instance", Kind::InstanceId),
        ("firewall_rule_action", Kind::Scan),
    ])
});

impl Parser for VpcDns {
    fn log_type(&self) -> &str {
        "AWS.VPCDns"
    }

    fn indicator_fields(&self) -> &[IndicatorField] {
        &INDICATORS
    }

    fn specificity(&self) -> u32 {
        3
    }

    fn parse(&self, input: &mut Input<'_>, _state: &mut ObjectState) -> Parse {
        let Some(map) = object(input) else { return Parse::NotMine };
        if !has_all(map, &["query_name", "query_type", "srcaddr"]) {
            return Parse::NotMine;
        }
        let event_time = value_time(map.get("query_timestamp"));
        Parse::Event(Parsed { fields: take_object(input).into(), event_time, indicators: None })
    }
}
