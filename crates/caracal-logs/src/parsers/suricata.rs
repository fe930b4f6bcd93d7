//! `Suricata.EVE`: Suricata eve.json records of every `event_type` (alert, dns, flow,
//! http, tls, fileinfo, ...), one JSON object per line.

use std::sync::LazyLock;

use super::util::{fields, has_all, object, take_object, value_time};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::Kind;

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
        ("fileinfo.md5", Kind::Md5),
    ])
});

impl Parser for Eve {
    fn log_type(&self) -> &str {
        "Suricata.EVE"
    }

    fn indicator_fields(&self) -> &[IndicatorField] {
        &INDICATORS
    }

    fn parse(&self, input: &mut Input<'_>, _state: &mut ObjectState) -> Parse {
        let Some(map) = object(input) else { return Parse::NotMine };
        if !has_all(map, &["event_type", "timestamp"]) {
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
