//! `AWS.CloudTrail` (per home region): DescribeTrails without shadow trails, then per
//! trail GetTrailStatus, GetEventSelectors and ListTags.

use async_trait::async_trait;
use aws_sdk_cloudtrail::Client;
use aws_sdk_cloudtrail::types::{AdvancedEventSelector, EventSelector, Trail};
use caracal_core::{Resource, ResourceType};
use serde_json::{Value, json};

use super::{Collected, Collector, Described, DetailErrors, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, e, list, ts};

pub(crate) struct Trails;

#[async_trait]
impl Collector for Trails {
    fn resource_type(&self) -> &'static str {
        ResourceType::CLOUDTRAIL
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "cloudtrail", prefix: "trail/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "cloudtrail:DescribeTrails",
            "cloudtrail:GetTrailStatus",
            "cloudtrail:GetEventSelectors",
            "cloudtrail:ListTags",
        ]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let ct = scope.clients().cloudtrail();
        let trails = ct
            .describe_trails()
            .include_shadow_trails(false)
            .send()
            .await
            .op("cloudtrail:DescribeTrails")?
            .trail_list
            .unwrap_or_default();
        let results = scope
            .each(trails, |t| {
                let ct = ct.clone();
                async move {
                    let arn = t.trail_arn().unwrap_or_default().to_owned();
                    trail(&ct, scope, &t).await.map_err(|e| e.on(arn))
                }
            })
            .await;
        Ok(Collected::from_described(results))
    }
}

/// One trail. `DescribeTrails` gave the trail itself; a failed status, selectors or tags
/// call keeps it with that part absent (unknown, not null) and the failure noted.
async fn trail(ct: &Client, scope: &Scope, t: &Trail) -> Result<Described, CollectError> {
    let arn = t.trail_arn().unwrap_or_default();
    let mut failed = DetailErrors::default();
    let status = failed.keep_fields(
        &["Status"],
        ct.get_trail_status().name(arn).send().await.op("cloudtrail:GetTrailStatus"),
    );
    let selectors = failed
        .keep_fields(&["EventSelectors", "AdvancedEventSelectors"], event_selectors(ct, arn).await);
    let tags =
        failed.keep(ct.list_tags().resource_id_list(arn).send().await.op("cloudtrail:ListTags"));
    let mut r = Resource::new(arn, ResourceType::CLOUDTRAIL, scope.account_id(), scope.region());
    r.arn = Some(arn.to_owned());
    r.name = t.name().map(str::to_owned);
    r.tags = tags
        .iter()
        .flat_map(|out| out.resource_tag_list())
        .flat_map(|rt| rt.tags_list())
        .map(|tag| (tag.key().to_owned(), tag.value().unwrap_or_default().to_owned()))
        .collect();
    r = r
        .with("HomeRegion", t.home_region())
        .with("IsMultiRegionTrail", t.is_multi_region_trail().unwrap_or(false))
        .with("IsOrganizationTrail", t.is_organization_trail().unwrap_or(false))
        .with("IncludeGlobalServiceEvents", t.include_global_service_events().unwrap_or(false))
        .with("LogFileValidationEnabled", t.log_file_validation_enabled().unwrap_or(false))
        .with("HasCustomEventSelectors", t.has_custom_event_selectors())
        .with("KmsKeyId", t.kms_key_id())
        .with("S3BucketName", t.s3_bucket_name())
        .with("S3KeyPrefix", t.s3_key_prefix())
        .with("SnsTopicARN", t.sns_topic_arn())
        .with("CloudWatchLogsLogGroupArn", t.cloud_watch_logs_log_group_arn())
        .with("CloudWatchLogsRoleArn", t.cloud_watch_logs_role_arn());
    if let Some((selectors, advanced)) = selectors {
        r = r.with("EventSelectors", selectors).with("AdvancedEventSelectors", advanced);
    }
    if let Some(status) = status {
        r = r.with(
            "Status",
            json!({
                "IsLogging": status.is_logging().unwrap_or(false),
                "LatestDeliveryTime": ts(status.latest_delivery_time()),
                "LatestDeliveryError": status.latest_delivery_error(),
                "LatestNotificationError": status.latest_notification_error(),
                "LatestCloudWatchLogsDeliveryTime": ts(status.latest_cloud_watch_logs_delivery_time()),
                "LatestCloudWatchLogsDeliveryError": status.latest_cloud_watch_logs_delivery_error(),
                "LatestDigestDeliveryTime": ts(status.latest_digest_delivery_time()),
                "StartLoggingTime": ts(status.start_logging_time()),
                "StopLoggingTime": ts(status.stop_logging_time()),
            }),
        );
    }
    Ok(failed.finish(r))
}

/// A trail's basic and advanced event selectors, as JSON lists.
pub(super) async fn event_selectors(
    ct: &Client,
    arn: &str,
) -> Result<(Value, Value), CollectError> {
    let out =
        ct.get_event_selectors().trail_name(arn).send().await.op("cloudtrail:GetEventSelectors")?;
    Ok((
        list(out.event_selectors(), event_selector),
        list(out.advanced_event_selectors(), advanced_selector),
    ))
}

fn event_selector(s: &EventSelector) -> Value {
    json!({
        "ReadWriteType": e(s.read_write_type()),
        "IncludeManagementEvents": s.include_management_events(),
        "DataResources": list(s.data_resources(), |d| json!({"Type": d.r#type(), "Values": d.values()})),
        "ExcludeManagementEventSources": s.exclude_management_event_sources(),
    })
}

fn advanced_selector(s: &AdvancedEventSelector) -> Value {
    json!({
        "Name": s.name(),
        "FieldSelectors": list(s.field_selectors(), |f| json!({
            "Field": f.field(),
            "Equals": f.equals(),
            "StartsWith": f.starts_with(),
            "EndsWith": f.ends_with(),
            "NotEquals": f.not_equals(),
            "NotStartsWith": f.not_starts_with(),
            "NotEndsWith": f.not_ends_with(),
        })),
    })
}
