//! `AWS.RDS.DisablePublicAccess`: turns off PubliclyAccessible, so the instance's DNS name resolves to its private address only. Clients outside the VPC lose access. One ModifyDBInstance call, applied immediately; nothing is
//! restarted.
//!
//! ```yaml
//! AutoRemediationID: AWS.RDS.DisablePublicAccess
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
pub(crate) struct DisablePublicAccess;

/// No parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {}

#[async_trait]
impl Fix for DisablePublicAccess {
    const META: Meta = Meta {
        id: "AWS.RDS.DisablePublicAccess",
        resource_type: "AWS.RDS.Instance",
        description: "Turn off public accessibility of the RDS instance",
        risk: Risk::Medium,
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
            json!({ "DBInstanceIdentifier": t.name, "PubliclyAccessible": db.publicly_accessible.unwrap_or(false) }),
        )
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &Params,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if state["PubliclyAccessible"] == false {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant()
            .call(
                "rds:ModifyDBInstance",
                json!({ "DBInstanceIdentifier": t.name, "PubliclyAccessible": false, "ApplyImmediately": true }),
            )
            .change(state, "PubliclyAccessible", json!(false)))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.rds()
            .modify_db_instance()
            .db_instance_identifier(call.str("DBInstanceIdentifier")?)
            .publicly_accessible(call.get("PubliclyAccessible")?)
            .apply_immediately(true)
            .send()
            .await
            .map_err(aws_err("rds:ModifyDBInstance", t))?;
        Ok(())
    }
}
