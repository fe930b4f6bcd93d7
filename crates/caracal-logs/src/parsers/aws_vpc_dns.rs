//! `AWS.VPCDns`: Route 53 Resolver query logs (JSON, one query per line).

use std::sync::LazyLock;

use super::util::{fields, has_all, object, take_object, value_time};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::Kind;
use crate::lake::Column;

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

static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    super::util::declare(
        "\
         account_id string\n\
         answers array<struct<Rdata:string, Type:string, Class:string>>\n\
         firewall_domain_list_id string\n\
         firewall_rule_action string\n\
         firewall_rule_group_id string\n\
         query_class string\n\
         query_name string\n\
         query_timestamp timestamp\n\
         query_type string\n\
         rcode string\n\
         region string\n\
         srcaddr string\n\
         srcids struct<instance:string, resolver_endpoint:string>\n\
         srcport bigint\n\
         transport string\n\
         version string\n\
         vpc_id string\n\
         ",
    )
});

impl Parser for VpcDns {
    fn log_type(&self) -> &str {
        "AWS.VPCDns"
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

    fn parse(&self, input: &mut Input<'_>, _state: &mut ObjectState) -> Parse {
        let Some(map) = object(input) else { return Parse::NotMine };
        if !has_all(map, &["query_name", "query_type", "srcaddr"]) {
            return Parse::NotMine;
        }
        let event_time = value_time(map.get("query_timestamp"));
        Parse::Event(Parsed { fields: take_object(input).into(), event_time, indicators: None })
    }
}
