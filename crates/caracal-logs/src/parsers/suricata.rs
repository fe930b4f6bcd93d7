//! `Suricata.EVE`: Suricata eve.json records of every `event_type` (alert, dns, flow,
//! http, tls, fileinfo, ...), one JSON object per line. A record is claimed only with a
//! string `event_type` and `timestamp` and a field only EVE has beside them: `flow_id`,
//! `src_ip` and `dest_ip`, or the section its `event_type` names (`"stats": {...}`);
//! Duo and Dropbox events also carry `event_type` and `timestamp` (#11.12).

use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::util::{fields, has_all, object, take_object, value_time};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::Kind;
use crate::lake::Column;

pub(crate) struct Eve;
pub(crate) static PARSER: Eve = Eve;

static INDICATORS: LazyLock<Vec<IndicatorField>> = LazyLock::new(|| {
    fields(&[
        ("src_ip", Kind::Ip),
        ("dest_ip", Kind::Ip),
        ("dns.rrname", Kind::Domain),
        ("dns.queries.rrname", Kind::Domain),
        ("dns.answers.rrname", Kind::Domain),
        ("dns.answers.rdata", Kind::Host),
        ("http.hostname", Kind::Domain),
        ("tls.sni", Kind::Domain),
        ("fileinfo.sha256", Kind::Sha256),
        ("fileinfo.sha1", Kind::Sha1),
        ("fileinfo.md5", Kind::Md5),
    ])
});

/// True when `map` holds what every EVE record has and what only EVE records have.
fn is_eve(map: &Map<String, Value>) -> bool {
    let (Some(Value::String(event_type)), Some(Value::String(_))) =
        (map.get("event_type"), map.get("timestamp"))
    else {
        return false;
    };
    map.contains_key("flow_id")
        || has_all(map, &["src_ip", "dest_ip"])
        || map.get(event_type.as_str()).is_some_and(Value::is_object)
}

static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    super::util::declare(
        "\
         alert json\n\
         anomaly json\n\
         app_proto string\n\
         community_id string\n\
         dest_ip string\n\
         dest_port bigint\n\
         dns json\n\
         event_type string\n\
         fileinfo json\n\
         flow json\n\
         flow_id bigint\n\
         host string\n\
         http json\n\
         in_iface string\n\
         metadata json\n\
         netflow json\n\
         packet string\n\
         pcap_cnt bigint\n\
         proto string\n\
         smtp json\n\
         src_ip string\n\
         src_port bigint\n\
         ssh json\n\
         stats json\n\
         timestamp timestamp\n\
         tls json\n\
         tx_id bigint\n\
         vlan array<bigint>\n\
         ",
    )
});

impl Parser for Eve {
    fn log_type(&self) -> &str {
        "Suricata.EVE"
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
        if !is_eve(map) {
            return Parse::NotMine;
        }
        let Some(event_time) = value_time(map.get("timestamp")) else {
            return Parse::Malformed(format!("timestamp {} is not a time", map["timestamp"]));
        };
        Parse::Event(Parsed {
            fields: take_object(input).into(),
            event_time: Some(event_time),
            indicators: None,
        })
    }
}
