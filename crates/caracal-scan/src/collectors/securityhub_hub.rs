//! `AWS.SecurityHub.Hub` (caracal's own, one per account and region, id
//! `<account>:<region>:AWS.SecurityHub.Hub`): DescribeHub. A region where the account is
//! not subscribed answers `InvalidAccessException`, which becomes `Enabled: false` with
//! null hub fields, so "Security Hub is enabled" (CIS) can fail on it.

use async_trait::async_trait;
use caracal_core::Resource;
use serde_json::Value;

use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, e};

const TYPE: &str = "AWS.SecurityHub.Hub";

pub(crate) struct Hubs;

#[async_trait]
impl Collector for Hubs {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::RegionSingleton
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["securityhub:DescribeHub"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let hub = scope
            .clients()
            .securityhub()
            .describe_hub()
            .send()
            .await
            .absent("securityhub:DescribeHub", &["InvalidAccessException"])?;
        let id = format!("{}:{}:{TYPE}", scope.account_id(), scope.region());
        let mut r = Resource::new(id, TYPE, scope.account_id(), scope.region());
        r.name = Some(TYPE.to_owned());
        let r = match hub {
            Some(h) => {
                r.arn = h.hub_arn().map(str::to_owned);
                r.time_created = h
                    .subscribed_at()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&chrono::Utc));
                r.with("Enabled", true)
                    .with("HubArn", h.hub_arn())
                    .with("SubscribedAt", h.subscribed_at())
                    .with("AutoEnableControls", h.auto_enable_controls())
                    .with("ControlFindingGenerator", e(h.control_finding_generator()))
            }
            None => r
                .with("Enabled", false)
                .with("HubArn", Value::Null)
                .with("SubscribedAt", Value::Null)
                .with("AutoEnableControls", Value::Null)
                .with("ControlFindingGenerator", Value::Null),
        };
        Ok(Collected { resources: vec![r], ..Default::default() })
    }
}
