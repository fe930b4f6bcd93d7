//! `AWS.WAFWebACL`: AWS WAF web ACL traffic logs (JSON, epoch-millisecond `timestamp`).

use std::sync::LazyLock;

use super::util::{fields, has_all, object, take_object, value_time};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::Kind;
use crate::lake::Column;

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

static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    super::util::declare(
        "\
         action string\n\
         captchaResponse json\n\
         challengeResponse json\n\
         formatVersion bigint\n\
         httpRequest struct<clientIp:string, country:string, headers:array<struct<name:string, value:string>>, uri:string, args:string, httpVersion:string, httpMethod:string, requestId:string, fragment:string, scheme:string, host:string>\n\
         httpSourceId string\n\
         httpSourceName string\n\
         ja3Fingerprint string\n\
         ja4Fingerprint string\n\
         labels array<struct<name:string>>\n\
         nonTerminatingMatchingRules json\n\
         oversizeFields json\n\
         rateBasedRuleList json\n\
         requestBodySize bigint\n\
         requestBodySizeInspectedByWAF bigint\n\
         requestHeadersInserted json\n\
         responseCodeSent bigint\n\
         ruleGroupList json\n\
         terminatingRuleId string\n\
         terminatingRuleMatchDetails json\n\
         terminatingRuleType string\n\
         timestamp timestamp\n\
         webaclId string\n\
         ",
    )
});

impl Parser for WebAcl {
    fn log_type(&self) -> &str {
        "AWS.WAFWebACL"
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
        if !has_all(map, &["webaclId", "httpRequest", "action"]) {
            return Parse::NotMine;
        }
        let event_time = value_time(map.get("timestamp"));
        let fields = take_object(input);
        Parse::Event(Parsed { fields: fields.into(), event_time, indicators: None })
    }
}
