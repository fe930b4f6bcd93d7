//! `AWS.RDS.MakeSnapshotPrivate`: removes `all` from a DB snapshot's `restore` attribute,
//! so no other account can copy or restore it. Accounts it is shared with by id keep their
//! access. One call.
//!
//! ```yaml
//! AutoRemediationID: AWS.RDS.MakeSnapshotPrivate
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use caracal_aws::Clients;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::sdk::aws_err;
use crate::target::Target;

/// The attribute that lists who may restore the snapshot.
const RESTORE: &str = "restore";

/// See the module doc.
pub(crate) struct MakeSnapshotPrivate;

#[async_trait]
impl Fix for MakeSnapshotPrivate {
    const META: Meta = Meta {
        id: "AWS.RDS.MakeSnapshotPrivate",
        resource_type: "AWS.RDS.Snapshot",
        description: "Remove the public (all) restore permission from the RDS snapshot",
        risk: Risk::Medium,
        permissions: &["rds:DescribeDBSnapshotAttributes", "rds:ModifyDBSnapshotAttribute"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .rds()
            .describe_db_snapshot_attributes()
            .db_snapshot_identifier(&t.name)
            .send()
            .await
            .map_err(aws_err("rds:DescribeDBSnapshotAttributes", t))?;
        let mut restore: Vec<String> = out
            .db_snapshot_attributes_result
            .and_then(|r| r.db_snapshot_attributes)
            .unwrap_or_default()
            .into_iter()
            .filter(|a| a.attribute_name.as_deref() == Some(RESTORE))
            .flat_map(|a| a.attribute_values.unwrap_or_default())
            .collect();
        restore.sort();
        Ok(json!({ "DBSnapshotIdentifier": t.name, "RestoreAttributeValues": restore }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let values = state["RestoreAttributeValues"].as_array().cloned().unwrap_or_default();
        if !values.iter().any(|v| v == "all") {
            return Ok(Planned::compliant());
        }
        let kept: Vec<Value> = values.into_iter().filter(|v| v != "all").collect();
        Ok(Planned::compliant()
            .call(
                "rds:ModifyDBSnapshotAttribute",
                json!({
                    "DBSnapshotIdentifier": t.name,
                    "AttributeName": RESTORE,
                    "ValuesToRemove": ["all"],
                }),
            )
            .change(state, "RestoreAttributeValues", json!(kept)))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.rds()
            .modify_db_snapshot_attribute()
            .db_snapshot_identifier(call.str("DBSnapshotIdentifier")?)
            .attribute_name(RESTORE)
            .set_values_to_remove(Some(call.get("ValuesToRemove")?))
            .send()
            .await
            .map_err(aws_err("rds:ModifyDBSnapshotAttribute", t))?;
        Ok(())
    }
}
