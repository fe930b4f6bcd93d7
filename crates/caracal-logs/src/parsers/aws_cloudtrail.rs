//! `AWS.CloudTrail`: API call records. Accepts single events (one per line, in a JSON array
//! or under `Records`, which the reader streams) and EventBridge envelopes ("AWS API Call
//! via CloudTrail") with the event under `detail`. Digest files are recognised and skipped.
//! A record without a valid `eventTime` is malformed.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::util::{fields, has_all, object, take_object, value_time};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::Kind;
use crate::lake::Column;

pub(crate) struct CloudTrail;
pub(crate) static PARSER: CloudTrail = CloudTrail;

static INDICATORS: LazyLock<Vec<IndicatorField>> = LazyLock::new(|| {
    fields(&[
        ("sourceIPAddress", Kind::Host),
        ("recipientAccountId", Kind::AccountId),
        ("userIdentity.arn", Kind::Arn),
        ("userIdentity.accountId", Kind::AccountId),
        ("userIdentity.userName", Kind::Username),
        ("userIdentity.sessionContext.sessionIssuer.arn", Kind::Arn),
        ("userIdentity.sessionContext.sessionIssuer.userName", Kind::Username),
        ("resources.ARN", Kind::Arn),
        ("resources.accountId", Kind::AccountId),
        ("tlsDetails.clientProvidedHostHeader", Kind::Domain),
        ("requestParameters", Kind::Scan),
        ("responseElements", Kind::Scan),
    ])
});

fn is_event(map: &Map<String, Value>) -> bool {
    has_all(map, &["eventName", "eventSource"])
}

fn is_digest(map: &Map<String, Value>) -> bool {
    has_all(map, &["digestStartTime", "digestEndTime", "digestS3Object"])
}

static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    super::util::declare(
        "\
         additionalEventData json\n\
         addendum json\n\
         apiVersion string\n\
         awsRegion string\n\
         edgeDeviceDetails json\n\
         errorCode string\n\
         errorMessage string\n\
         eventCategory string\n\
         eventID string\n\
         eventName string\n\
         eventSource string\n\
         eventTime timestamp\n\
         eventType string\n\
         eventVersion string\n\
         insightDetails json\n\
         managementEvent boolean\n\
         readOnly boolean\n\
         recipientAccountId string\n\
         requestID string\n\
         requestParameters json\n\
         resources array<struct<ARN:string, accountId:string, type:string>>\n\
         responseElements json\n\
         serviceEventDetails json\n\
         sessionCredentialFromConsole string\n\
         sharedEventID string\n\
         sourceIPAddress string\n\
         tlsDetails struct<tlsVersion:string, cipherSuite:string, clientProvidedHostHeader:string>\n\
         userAgent string\n\
         userIdentity struct<type:string, principalId:string, arn:string, accountId:string, accessKeyId:string, userName:string, invokedBy:string, identityProvider:string, credentialId:string, onBehalfOf:json, sessionContext:struct<attributes:struct<creationDate:timestamp, mfaAuthenticated:string>, sessionIssuer:struct<type:string, principalId:string, arn:string, accountId:string, userName:string>, webIdFederationData:json, sourceIdentity:string, ec2RoleDelivery:string, assumedRoot:string>>\n\
         vpcEndpointAccountId string\n\
         vpcEndpointId string\n\
         ",
    )
});

impl Parser for CloudTrail {
    fn log_type(&self) -> &str {
        "AWS.CloudTrail"
    }

    fn indicator_fields(&self) -> &[IndicatorField] {
        &INDICATORS
    }

    fn columns(&self) -> &[Column] {
        &COLUMNS
    }

    fn specificity(&self) -> u32 {
        2
    }

    fn parse(&self, input: &mut Input<'_>, _state: &mut ObjectState) -> Parse {
        let Some(map) = object(input) else { return Parse::NotMine };
        if is_digest(map) {
            return Parse::Skip;
        }
        let envelope = map.contains_key("detail-type")
            && map.get("detail").and_then(Value::as_object).is_some_and(is_event);
        let event = if envelope {
            map.get("detail").and_then(Value::as_object)
        } else {
            Some(map).filter(|m| is_event(m))
        };
        let Some(event) = event else { return Parse::NotMine };
        // Every CloudTrail record has its time; without it the event would be filed under
        // the time it was processed (#11.11).
        let event_time = match event.get("eventTime") {
            None => return Parse::Malformed("eventTime is missing".into()),
            Some(v) => match value_time(Some(v)) {
                Some(t) => Some(t),
                None => return Parse::Malformed(format!("eventTime {v} is not a time")),
            },
        };
        let mut fields = take_object(input);
        if envelope {
            fields = match fields.remove("detail") {
                Some(Value::Object(detail)) => detail,
                _ => Map::new(),
            };
        }
        Parse::Event(Parsed { fields: fields.into(), event_time, indicators: None })
    }
}
