//! `Okta.SystemLog`: System Log API events (one JSON object per line).

use std::sync::LazyLock;

use super::util::{fields, object, take_object, value_time};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::Kind;
use crate::lake::Column;

pub(crate) struct SystemLog;
pub(crate) static PARSER: SystemLog = SystemLog;

static INDICATORS: LazyLock<Vec<IndicatorField>> = LazyLock::new(|| {
    fields(&[
        ("client.ipAddress", Kind::Ip),
        ("client.ipaddress", Kind::Ip),
        ("request.ipChain.ip", Kind::Ip),
        ("securityContext.domain", Kind::Domain),
        ("securitycontext.domain", Kind::Domain),
        ("actor.alternateId", Kind::Email),
        ("actor.alternateId", Kind::Username),
        ("target.alternateId", Kind::Email),
    ])
});

static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    super::util::declare(
        "\
         actor struct<id:string, type:string, alternateId:string, displayName:string, detailEntry:json>\n\
         authenticationContext struct<authenticationProvider:string, credentialProvider:string, credentialType:string, issuer:json, interface:string, authenticationStep:bigint, externalSessionId:string>\n\
         client struct<id:string, userAgent:struct<rawUserAgent:string, os:string, browser:string>, zone:string, device:string, ipAddress:string, geographicalContext:struct<city:string, state:string, country:string, postalCode:string, geolocation:struct<lat:double, lon:double>>>\n\
         debugContext struct<debugData:json>\n\
         displayMessage string\n\
         eventType string\n\
         legacyEventType string\n\
         outcome struct<result:string, reason:string>\n\
         published timestamp\n\
         request struct<ipChain:json>\n\
         securityContext struct<asNumber:bigint, asOrg:string, isp:string, domain:string, isProxy:boolean>\n\
         severity string\n\
         target array<struct<id:string, type:string, alternateId:string, displayName:string, detailEntry:json>>\n\
         transaction struct<type:string, id:string, detail:json>\n\
         uuid string\n\
         version string\n\
         ",
    )
});

impl Parser for SystemLog {
    fn log_type(&self) -> &str {
        "Okta.SystemLog"
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
        // Some pipelines (Panther's) store the keys lower-cased: `eventtype`.
        if !map.contains_key("actor")
            || !(map.contains_key("eventType") || map.contains_key("eventtype"))
            || !["published", "uuid", "outcome"].iter().any(|k| map.contains_key(*k))
        {
            return Parse::NotMine;
        }
        let event_time = value_time(map.get("published"));
        Parse::Event(Parsed { fields: take_object(input).into(), event_time, indicators: None })
    }
}
