//! `AWS.CloudWatch.MetricFilters` (caracal's own, one per account and region, id
//! `<account>:<region>:AWS.CloudWatch.MetricFilters`): what the CIS monitoring controls
//! (4.x / 5.x "a log metric filter and alarm exist for ...") join, read with one listing
//! each: every log metric filter (DescribeMetricFilters), every metric alarm
//! (DescribeAlarms) and every SNS subscription (ListSubscriptions). A policy follows a
//! trail's log group to a filter whose pattern matches, to an alarm on the filter's
//! metric, to an alarm action topic with a subscriber.
//!
//! Fields: `MetricFilters[] {FilterName, FilterPattern, LogGroupName,
//! MetricTransformations[] {MetricName, MetricNamespace, MetricValue}}`, `MetricAlarms[]
//! {AlarmName, AlarmArn, MetricName, Namespace, ActionsEnabled, AlarmActions[],
//! StateValue}` and `Subscriptions[] {SubscriptionArn, TopicArn, Protocol, Endpoint}`
//! (pending confirmations keep `SubscriptionArn: "PendingConfirmation"`).

use async_trait::async_trait;
use caracal_core::Resource;
use serde_json::{Value, json};

use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, e, list};

const TYPE: &str = "AWS.CloudWatch.MetricFilters";

pub(crate) struct MetricFilters;

#[async_trait]
impl Collector for MetricFilters {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::RegionSingleton
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["logs:DescribeMetricFilters", "cloudwatch:DescribeAlarms", "sns:ListSubscriptions"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let clients = scope.clients();
        let mut filters = Vec::new();
        let mut pages = clients.logs().describe_metric_filters().into_paginator().send();
        while let Some(page) = pages.next().await {
            for f in page.op("logs:DescribeMetricFilters")?.metric_filters() {
                filters.push(json!({
                    "FilterName": f.filter_name(),
                    "FilterPattern": f.filter_pattern(),
                    "LogGroupName": f.log_group_name(),
                    "MetricTransformations": list(f.metric_transformations(), |t| json!({
                        "MetricName": t.metric_name(),
                        "MetricNamespace": t.metric_namespace(),
                        "MetricValue": t.metric_value(),
                    })),
                }));
            }
        }
        let mut alarms = Vec::new();
        let mut pages = clients.cloudwatch().describe_alarms().into_paginator().send();
        while let Some(page) = pages.next().await {
            for a in page.op("cloudwatch:DescribeAlarms")?.metric_alarms() {
                alarms.push(json!({
                    "AlarmName": a.alarm_name(),
                    "AlarmArn": a.alarm_arn(),
                    "MetricName": a.metric_name(),
                    "Namespace": a.namespace(),
                    "ActionsEnabled": a.actions_enabled(),
                    "AlarmActions": a.alarm_actions(),
                    "StateValue": e(a.state_value()),
                }));
            }
        }
        let mut subscriptions = Vec::new();
        let mut pages = clients.sns().list_subscriptions().into_paginator().send();
        while let Some(page) = pages.next().await {
            for s in page.op("sns:ListSubscriptions")?.subscriptions() {
                subscriptions.push(json!({
                    "SubscriptionArn": s.subscription_arn(),
                    "TopicArn": s.topic_arn(),
                    "Protocol": s.protocol(),
                    "Endpoint": s.endpoint(),
                }));
            }
        }
        let id = format!("{}:{}:{TYPE}", scope.account_id(), scope.region());
        let mut r = Resource::new(id, TYPE, scope.account_id(), scope.region());
        r.name = Some(TYPE.to_owned());
        let r = r
            .with("MetricFilters", Value::Array(filters))
            .with("MetricAlarms", Value::Array(alarms))
            .with("Subscriptions", Value::Array(subscriptions));
        Ok(Collected { resources: vec![r], ..Default::default() })
    }
}
