//! `AWS.DynamoDB.EnablePointInTimeRecovery`: turns on point-in-time recovery (continuous
//! backups, 35 days) for the table.
//!
//! ```yaml
//! AutoRemediationID: AWS.DynamoDB.EnablePointInTimeRecovery
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use aws_sdk_dynamodb::types::PointInTimeRecoverySpecification;
use caracal_aws::Clients;
use caracal_core::ResourceType;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk};
use crate::error::{Error, bad_param};
use crate::plan::{ApiCall, Planned};
use crate::sdk::aws_err;
use crate::target::Target;

/// See the module doc.
pub(crate) struct EnablePointInTimeRecovery;

const STATUS: &str =
    "ContinuousBackupsDescription/PointInTimeRecoveryDescription/PointInTimeRecoveryStatus";

#[async_trait]
impl Fix for EnablePointInTimeRecovery {
    const META: Meta = Meta {
        id: "AWS.DynamoDB.EnablePointInTimeRecovery",
        resource_type: ResourceType::DYNAMODB_TABLE,
        description: "Enable point-in-time recovery on the table",
        risk: Risk::Low,
        permissions: &["dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .dynamodb()
            .describe_continuous_backups()
            .table_name(&t.name)
            .send()
            .await
            .map_err(aws_err("dynamodb:DescribeContinuousBackups", t))?;
        let d = out.continuous_backups_description.map(|d| {
            json!({
                "ContinuousBackupsStatus": d.continuous_backups_status.as_str(),
                "PointInTimeRecoveryDescription": {
                    "PointInTimeRecoveryStatus": d.point_in_time_recovery_description
                        .and_then(|p| p.point_in_time_recovery_status)
                        .map(|s| s.as_str().to_owned()),
                },
            })
        });
        Ok(json!({ "TableName": t.name, "ContinuousBackupsDescription": d }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if state.pointer(&format!("/{STATUS}")).is_some_and(|s| s == "ENABLED") {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant()
            .call(
                "dynamodb:UpdateContinuousBackups",
                json!({
                    "TableName": t.name,
                    "PointInTimeRecoverySpecification": { "PointInTimeRecoveryEnabled": true },
                }),
            )
            .change(state, STATUS, json!("ENABLED")))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        let spec = PointInTimeRecoverySpecification::builder()
            .point_in_time_recovery_enabled(true)
            .build()
            .map_err(|e| bad_param(Self::META.id, "parameters", e.to_string()))?;
        c.dynamodb()
            .update_continuous_backups()
            .table_name(call.str("TableName")?)
            .point_in_time_recovery_specification(spec)
            .send()
            .await
            .map_err(aws_err("dynamodb:UpdateContinuousBackups", t))?;
        Ok(())
    }
}
