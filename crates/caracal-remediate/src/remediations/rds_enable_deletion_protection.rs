//! `AWS.RDS.EnableDeletionProtection`: turns on deletion protection, so DeleteDBInstance fails until someone turns it off on purpose. One ModifyDBInstance call, applied immediately; nothing is
//! restarted.
//!
//! ```yaml
//! AutoRemediationID: AWS.RDS.EnableDeletionProtection
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use caracal_aws::Clients;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Fix, Meta, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::sdk::{aws_err, not_found};
use crate::target::Target;

/// See the module doc.
pub(crate) struct EnableDeletionProtection;

/// No parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {}

#[async_trait]
impl Fix for EnableDeletionProtection {
    const META: Meta = Meta {
        id: "AWS.RDS.EnableDeletionProtection",
        resource_type: "AWS.RDS.Instance",
        description: "Turn on deletion protection of the RDS instance",
        risk: Risk::Low,
        permissions: &["rds:DescribeDBInstances", "rds:ModifyDBInstance"],
        parameters: &[],
    };
    type Params = Params;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .rds()
            .describe_db_instances()
            .db_instance_identifier(&t.name)
            .send()
            .await
            .map_err(aws_err("rds:DescribeDBInstances", t))?;
        let db = out.db_instances.unwrap_or_default().into_iter().next().ok_or_else(|| {
            not_found("rds:DescribeDBInstances", t, "DBInstanceNotFound", "DB instance")
        })?;
        Ok(
            json!({ "DBInstanceIdentifier": t.name, "DeletionProtection": db.deletion_protection.unwrap_or(false) }),
        )
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &Params,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if state["DeletionProtection"] == true {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant()
            .call(
                "rds:ModifyDBInstance",
                json!({ "DBInstanceIdentifier": t.name, "DeletionProtection": true, "ApplyImmediately": true }),
            )
            .change(state, "DeletionProtection", json!(true)))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.rds()
            .modify_db_instance()
            .db_instance_identifier(call.str("DBInstanceIdentifier")?)
            .deletion_protection(call.get("DeletionProtection")?)
            .apply_immediately(true)
            .send()
            .await
            .map_err(aws_err("rds:ModifyDBInstance", t))?;
        Ok(())
    }
}
