//! AWS Config as the source of resource details (#17, `[scan] source`).
//!
//! Where a region's configuration recorder records a type, the recorded configuration
//! items already hold what a collector would otherwise ask per resource: an S3 bucket's
//! ACL, policy, versioning, logging, public access block and tags come with one
//! `BatchGetResourceConfig` per 100 buckets instead of eight calls per bucket.
//!
//! What exists still comes from the service's own listing (one cheap, paged call), never
//! from Config's inventory: an item Config has not discovered yet, or a deletion it has
//! not recorded, can then never hide a resource or mark one deleted. Items are used only
//! when they are current: recorded (`OK` / `ResourceDiscovered`), not deleted, and, with
//! `[scan] config_max_age_hours`, captured recently enough. Any other resource, and any
//! detail an item lacks, is read through the API as before, so where Config is current
//! the snapshot is the same either way (`tests/config_source.rs` compares them on the
//! emulator, whose launcher adds the two entries moto leaves out in AWS's shapes). A
//! bucket changed in the last minutes is stored as Config last recorded it.

use std::collections::HashMap;

use aws_sdk_config::types::ResourceKey;
use caracal_core::config::ScanSource;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::CollectError;
use crate::sdk::CallResult;

/// Keys one `BatchGetResourceConfig` takes at most.
const BATCH: usize = 100;

/// Where a scan reads details from, and how old an item may be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inventory {
    /// `[scan] source`.
    pub source: ScanSource,
    /// `[scan] config_max_age_hours`; `None`: any age.
    pub max_age: Option<chrono::Duration>,
}

/// The longest `config_max_age_hours` taken (a century); longer is the same as unset.
const MAX_AGE_HOURS: u64 = 876_000;

impl Inventory {
    /// `[scan] source` and `config_max_age_hours`.
    pub fn new(source: ScanSource, max_age_hours: Option<u64>) -> Self {
        let max_age = max_age_hours
            .filter(|h| *h <= MAX_AGE_HOURS)
            .and_then(|h| i64::try_from(h).ok())
            .map(chrono::Duration::hours);
        Self { source, max_age }
    }

    /// Whether Config is asked at all for a type the region's recorders record
    /// (`recorded`) or not.
    pub(crate) fn asks(&self, recorded: bool) -> bool {
        match self.source {
            ScanSource::Api => false,
            ScanSource::Auto => recorded,
            ScanSource::Config => true,
        }
    }
}

/// Whether any of a region's recorders (as `config_recorder::describe` maps them) is
/// recording `config_type` now, continuously: on, not failing, its group covering the
/// type (every supported type, the type by name, or every type but excluded ones), and
/// neither the recorder nor an override for the type recording only daily (a daily item
/// can be a day behind; such a type is read through the API).
pub(crate) fn recorded(recorders: &[(String, Value)], config_type: &str) -> bool {
    let names =
        |v: &Value| v.as_array().is_some_and(|t| t.iter().any(|t| t.as_str() == Some(config_type)));
    recorders.iter().any(|(_, r)| {
        let status = &r["Status"];
        let group = &r["RecordingGroup"];
        let mode = &r["RecordingMode"];
        let on = status["Recording"] == Value::Bool(true)
            && status["LastStatus"].as_str() != Some("Failure");
        let covered = group["AllSupported"] == Value::Bool(true)
            || names(&group["ResourceTypes"])
            || (group["RecordingStrategy"].as_str() == Some("EXCLUSION_BY_RESOURCE_TYPES")
                && !names(&group["ExclusionByResourceTypes"]));
        // No recording mode: continuous, AWS's default.
        let continuous = mode.is_null()
            || (mode["RecordingFrequency"].as_str() == Some("CONTINUOUS")
                && !mode["RecordingModeOverrides"].as_array().is_some_and(|o| {
                    o.iter().any(|o| {
                        names(&o["ResourceTypes"])
                            && o["RecordingFrequency"].as_str() != Some("CONTINUOUS")
                    })
                }));
        on && covered && continuous
    })
}

/// What a collector reads of one configuration item: its status, capture time and
/// decoded supplementary configuration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    /// `configurationItemStatus`.
    pub(crate) status: Option<String>,
    /// `configurationItemCaptureTime`.
    pub(crate) captured: Option<DateTime<Utc>>,
    /// `supplementaryConfiguration`, each value decoded.
    pub(crate) supplementary: HashMap<String, Value>,
}

impl Item {
    /// Whether the item describes the resource as it is now: recorded, not deleted, and
    /// captured within `max_age`.
    pub(crate) fn current(&self, max_age: Option<chrono::Duration>, now: DateTime<Utc>) -> bool {
        let recorded = matches!(self.status.as_deref(), Some("OK" | "ResourceDiscovered"));
        let fresh = match (max_age, self.captured) {
            (None, _) => true,
            (Some(age), Some(at)) => now - at <= age,
            (Some(_), None) => false,
        };
        recorded && fresh
    }

    /// A supplementary configuration entry, `None` when the item lacks it.
    pub(crate) fn supplementary(&self, key: &str) -> Option<&Value> {
        self.supplementary.get(key)
    }
}

/// A JSON text from an item, decoded; Config double-encodes some entries (an S3 bucket's
/// `AccessControlList` is a JSON string holding the JSON text), so a string that is itself
/// a JSON object or array is decoded once more. Text that is not JSON stays a string.
pub(crate) fn decode(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::String(inner)) if inner.trim_start().starts_with(['{', '[']) => {
            serde_json::from_str(&inner).unwrap_or(Value::String(inner))
        }
        Ok(v) => v,
        Err(_) => Value::String(text.to_owned()),
    }
}

/// The current items of `ids` (resource ids of `config_type`) in the client's region, by
/// resource id. Ids Config does not return, returns unprocessed, or holds only an old or
/// deleted item of, are left out: the caller reads those through the API.
pub(crate) async fn current_items(
    config: &aws_sdk_config::Client,
    config_type: &str,
    ids: &[String],
    max_age: Option<chrono::Duration>,
) -> Result<HashMap<String, Item>, CollectError> {
    let now = Utc::now();
    let mut out = HashMap::new();
    for chunk in ids.chunks(BATCH) {
        let keys = chunk
            .iter()
            .map(|id| {
                ResourceKey::builder()
                    .resource_type(config_type.into())
                    .resource_id(id)
                    .build()
                    .map_err(|e| {
                        CollectError::message("config:BatchGetResourceConfig", e.to_string())
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let answer = config
            .batch_get_resource_config()
            .set_resource_keys(Some(keys))
            .send()
            .await
            .op("config:BatchGetResourceConfig")?;
        for raw in answer.base_configuration_items() {
            let Some(id) = raw.resource_id() else { continue };
            let item = Item {
                status: raw.configuration_item_status().map(|s| s.as_str().to_owned()),
                captured: raw
                    .configuration_item_capture_time()
                    .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos())),
                supplementary: raw
                    .supplementary_configuration()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), decode(v))).collect())
                    .unwrap_or_default(),
            };
            if item.current(max_age, now) {
                out.insert(id.to_owned(), item);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_encoded_twice_are_decoded_twice() {
        let twice = json!("{\"owner\":{\"id\":\"abc\"}}").to_string();
        assert_eq!(decode(&twice), json!({"owner": {"id": "abc"}}));
        assert_eq!(decode(r#"{"policyText":null}"#), json!({"policyText": null}));
        assert_eq!(decode("false"), json!(false));
        assert_eq!(decode(r#""Off""#), json!("Off"));
        assert_eq!(decode("not json"), json!("not json"));
    }

    #[test]
    fn only_a_recorder_that_is_on_and_records_the_type_continuously_counts() {
        let bucket = "AWS::S3::Bucket";
        let rec = |recording: bool, group: Value, mode: Value, last: &str| {
            vec![(
                "default".to_owned(),
                json!({"RecordingGroup": group, "RecordingMode": mode,
                       "Status": {"Recording": recording, "LastStatus": last}}),
            )]
        };
        let all = json!({"AllSupported": true, "ResourceTypes": []});
        let continuous = json!({"RecordingFrequency": "CONTINUOUS", "RecordingModeOverrides": []});
        assert!(recorded(&rec(true, all.clone(), Value::Null, "Success"), bucket));
        assert!(recorded(&rec(true, all.clone(), continuous.clone(), "Pending"), bucket));
        let named = json!({"AllSupported": false, "ResourceTypes": [bucket]});
        assert!(recorded(&rec(true, named, Value::Null, "Success"), bucket));
        let other = json!({"AllSupported": false, "ResourceTypes": ["AWS::SNS::Topic"]});
        assert!(!recorded(&rec(true, other, Value::Null, "Success"), bucket));
        let excluding = |types: Value| {
            json!({"AllSupported": false, "ResourceTypes": [],
                   "RecordingStrategy": "EXCLUSION_BY_RESOURCE_TYPES",
                   "ExclusionByResourceTypes": types})
        };
        assert!(recorded(
            &rec(true, excluding(json!(["AWS::SNS::Topic"])), Value::Null, "Success"),
            bucket
        ));
        assert!(!recorded(&rec(true, excluding(json!([bucket])), Value::Null, "Success"), bucket));
        assert!(!recorded(&rec(false, all.clone(), Value::Null, "Success"), bucket));
        assert!(!recorded(&rec(true, all.clone(), Value::Null, "Failure"), bucket));
        // Daily recording, for every type or for buckets by an override: not current enough.
        let daily = json!({"RecordingFrequency": "DAILY", "RecordingModeOverrides": []});
        assert!(!recorded(&rec(true, all.clone(), daily, "Success"), bucket));
        let override_daily = json!({"RecordingFrequency": "CONTINUOUS", "RecordingModeOverrides": [
            {"ResourceTypes": [bucket], "RecordingFrequency": "DAILY"}]});
        assert!(!recorded(&rec(true, all.clone(), override_daily, "Success"), bucket));
        let override_other = json!({"RecordingFrequency": "CONTINUOUS", "RecordingModeOverrides": [
            {"ResourceTypes": ["AWS::SNS::Topic"], "RecordingFrequency": "DAILY"}]});
        assert!(recorded(&rec(true, all, override_other, "Success"), bucket));
        assert!(!recorded(&[], bucket));
    }

    #[test]
    fn items_are_current_when_recorded_and_young_enough() {
        let now = Utc::now();
        let item = |status: &str, age_hours: i64| Item {
            status: Some(status.to_owned()),
            captured: Some(now - chrono::Duration::hours(age_hours)),
            supplementary: HashMap::new(),
        };
        let day = Some(chrono::Duration::hours(24));
        assert!(item("OK", 100).current(None, now));
        assert!(item("ResourceDiscovered", 1).current(day, now));
        assert!(!item("OK", 25).current(day, now));
        assert!(!item("ResourceDeleted", 1).current(None, now));
        assert!(!item("ResourceNotRecorded", 1).current(None, now));
    }

    #[test]
    fn scan_source_decides_whether_config_is_asked() {
        let with = |source| Inventory { source, max_age: None };
        assert!(with(ScanSource::Auto).asks(true));
        assert!(!with(ScanSource::Auto).asks(false));
        assert!(!with(ScanSource::Api).asks(true));
        assert!(with(ScanSource::Config).asks(false));
    }
}
