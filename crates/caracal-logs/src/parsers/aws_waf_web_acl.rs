//! `AWS.WAFWebACL`: AWS WAF web ACL traffic logs (JSON, epoch-millisecond `timestamp`).

use std::sync::LazyLock;

use super::util::{fields, has_all, object, take_object, value_time};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::Kind;

pub(crate) struct WebAcl;
pub(crate) static PARSER: WebAcl = WebAcl;

static INDICATORS: LazyLock<Vec<IndicatorField>> = LazyLock::new(|| {
    fields(&[
        ("httpRequest.clientIp", Kind::Ip),
        ("webaclId", Kind::Arn),
        // Header values that are domain names: the Host header.
        ("httpRequest.headers.value", Kind::Domain),
    ])
});

impl Parser for WebAcl {
    fn log_type(&self) -> &str {
        "AWS.WAFWebACL"
    }

    fn indicator_fields(&self) -> &[IndicatorField] {
        &INDICATORS
    }

    fn specificity(&self) -> u32 {
        3
    }

    fn parse(&self, input: &mut Input<'_>, _state: &mut ObjectState) -> Parse {
        let Some(map) = object(input) else { return Parse::NotMine };
        if !has_all(map, &["webaclId", "httpRequest", "action"]) {
            return Parse::NotMine;
        }
        let event_time = value_time(map.get("timestamp"));
        let fields = take_object(input);
        Parse::Event(Parsed { fields: fields.into(), event_time, indicators: None })
    }
}
