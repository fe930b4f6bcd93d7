//! `AWS.EC2.EnableSnapshotBlockPublicAccess`: turns on EBS snapshot block public access in
//! the region (`<account>:<region>:AWS.EC2.RegionSettings`), so no snapshot can be shared
//! publicly (`block-all-sharing`, the default) or newly shared (`block-new-sharing`).
//!
//! ```yaml
//! AutoRemediationID: AWS.EC2.EnableSnapshotBlockPublicAccess
//! AutoRemediationParameters:
//!   state: block-all-sharing
//! ```

use async_trait::async_trait;
use aws_sdk_ec2::types::SnapshotBlockPublicAccessState;
use caracal_aws::Clients;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Fix, Meta, Risk};
use crate::error::Error;
use crate::params::{ParamKind, ParamSpec};
use crate::plan::{ApiCall, Planned};
use crate::sdk::aws_err;
use crate::target::{REGION_SETTINGS, Target};

/// See the module doc.
pub(crate) struct EnableSnapshotBlockPublicAccess;

/// Parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    state: String,
}

const STATES: [&str; 2] = ["block-all-sharing", "block-new-sharing"];

#[async_trait]
impl Fix for EnableSnapshotBlockPublicAccess {
    const META: Meta = Meta {
        id: "AWS.EC2.EnableSnapshotBlockPublicAccess",
        resource_type: REGION_SETTINGS,
        description: "Turn on EBS snapshot block public access in the region",
        risk: Risk::Medium,
        permissions: &[
            "ec2:GetSnapshotBlockPublicAccessState",
            "ec2:EnableSnapshotBlockPublicAccess",
        ],
        parameters: &[ParamSpec {
            name: "state",
            kind: ParamKind::String,
            default: Some(r#""block-all-sharing""#),
            required: false,
            description: "block-all-sharing or block-new-sharing",
        }],
    };
    type Params = Params;

    fn validate(p: &Params) -> Result<(), (&'static str, String)> {
        if STATES.contains(&p.state.as_str()) {
            Ok(())
        } else {
            Err(("state", format!("{:?} is not one of {}", p.state, STATES.join(", "))))
        }
    }

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .ec2()
            .get_snapshot_block_public_access_state()
            .send()
            .await
            .map_err(aws_err("ec2:GetSnapshotBlockPublicAccessState", t))?;
        Ok(json!({ "SnapshotBlockPublicAccessState": out.state.map(|s| s.as_str().to_owned()) }))
    }

    fn plan(
        &self,
        _: &Target,
        state: &Value,
        p: &Params,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let current = state["SnapshotBlockPublicAccessState"].as_str().unwrap_or("unblocked");
        // block-all-sharing is at least as strict as anything asked for.
        if current == p.state || current == "block-all-sharing" {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant()
            .call("ec2:EnableSnapshotBlockPublicAccess", json!({ "State": p.state }))
            .change(state, "SnapshotBlockPublicAccessState", json!(p.state)))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.ec2()
            .enable_snapshot_block_public_access()
            .state(SnapshotBlockPublicAccessState::from(call.str("State")?.as_str()))
            .send()
            .await
            .map_err(aws_err("ec2:EnableSnapshotBlockPublicAccess", t))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! moto answers GetSnapshotBlockPublicAccessState with an empty body and has no
    //! EnableSnapshotBlockPublicAccess (EMULATOR.md), so the plan is tested from states
    //! shaped like AWS's answers; the emulator test shows the failure is audited.
    use super::*;

    fn target() -> Target {
        Target::parse("123456789012:us-east-1:AWS.EC2.RegionSettings").unwrap()
    }

    #[test]
    fn plans_the_enable_call_until_sharing_is_blocked() {
        let p = Params { state: "block-all-sharing".into() };
        let unblocked = json!({ "SnapshotBlockPublicAccessState": "unblocked" });
        let planned =
            EnableSnapshotBlockPublicAccess.plan(&target(), &unblocked, &p, Utc::now()).unwrap();
        assert_eq!(planned.calls[0].action, "ec2:EnableSnapshotBlockPublicAccess");
        assert_eq!(planned.calls[0].params, json!({ "State": "block-all-sharing" }));
        assert_eq!(planned.changes[0].before, json!("unblocked"));
        let done = json!({ "SnapshotBlockPublicAccessState": "block-all-sharing" });
        let planned = EnableSnapshotBlockPublicAccess.plan(&target(), &done, &p, Utc::now());
        assert!(planned.unwrap().calls.is_empty());
        let new_only = Params { state: "block-new-sharing".into() };
        let all = json!({ "SnapshotBlockPublicAccessState": "block-all-sharing" });
        assert!(
            EnableSnapshotBlockPublicAccess
                .plan(&target(), &all, &new_only, Utc::now())
                .unwrap()
                .calls
                .is_empty()
        );
    }
}
