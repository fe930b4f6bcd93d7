//! `AWS.S3.MakeBucketAclPrivate`: removes the ACL grants to everyone (`AllUsers`) and to
//! any AWS account (`AuthenticatedUsers`), keeping every other grant (the owner's, the log
//! delivery group's), so a log bucket keeps receiving logs.
//!
//! ```yaml
//! AutoRemediationID: AWS.S3.MakeBucketAclPrivate
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use aws_sdk_s3::types::{AccessControlPolicy, Grant, Grantee, Owner, Permission, Type};
use caracal_aws::Clients;
use caracal_core::ResourceType;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::sdk::aws_err;
use crate::target::Target;

/// See the module doc.
pub(crate) struct MakeBucketAclPrivate;

const PUBLIC_GROUPS: [&str; 2] = [
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];

fn is_public(grant: &Value) -> bool {
    grant["Grantee"]["URI"].as_str().is_some_and(|u| PUBLIC_GROUPS.contains(&u))
}

#[async_trait]
impl Fix for MakeBucketAclPrivate {
    const META: Meta = Meta {
        id: "AWS.S3.MakeBucketAclPrivate",
        resource_type: ResourceType::S3_BUCKET,
        description: "Remove the bucket ACL's grants to AllUsers and AuthenticatedUsers, keeping the others",
        risk: Risk::Medium,
        permissions: &["s3:GetBucketAcl", "s3:PutBucketAcl"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .s3()
            .get_bucket_acl()
            .bucket(&t.name)
            .send()
            .await
            .map_err(aws_err("s3:GetBucketAcl", t))?;
        let grants: Vec<Value> = out
            .grants
            .unwrap_or_default()
            .into_iter()
            .map(|g| {
                let e = g.grantee;
                json!({
                    "Grantee": e.map(|e| json!({
                        "DisplayName": e.display_name,
                        "EmailAddress": e.email_address,
                        "ID": e.id,
                        "Type": e.r#type.as_str(),
                        "URI": e.uri,
                    })),
                    "Permission": g.permission.map(|p| p.as_str().to_owned()),
                })
            })
            .collect();
        let owner = out.owner.map(|o| json!({ "DisplayName": o.display_name, "ID": o.id }));
        Ok(json!({ "Owner": owner, "Grants": grants }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let grants = state["Grants"].as_array().cloned().unwrap_or_default();
        if !grants.iter().any(is_public) {
            return Ok(Planned::compliant());
        }
        let kept: Vec<Value> = grants.into_iter().filter(|g| !is_public(g)).collect();
        let policy = json!({ "Owner": { "ID": state["Owner"]["ID"] }, "Grants": kept });
        Ok(Planned::compliant()
            .call("s3:PutBucketAcl", json!({ "Bucket": t.name, "AccessControlPolicy": policy }))
            .change(state, "Grants", json!(kept)))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        let policy: Value = call.get("AccessControlPolicy")?;
        let mut acp = AccessControlPolicy::builder().owner(
            Owner::builder().set_id(policy["Owner"]["ID"].as_str().map(str::to_owned)).build(),
        );
        for g in policy["Grants"].as_array().into_iter().flatten() {
            let e = &g["Grantee"];
            let s = |k: &str| e[k].as_str().map(str::to_owned);
            let grantee = Grantee::builder()
                .r#type(Type::from(e["Type"].as_str().unwrap_or_default()))
                .set_id(s("ID"))
                .set_uri(s("URI"))
                .set_email_address(s("EmailAddress"))
                .set_display_name(s("DisplayName"))
                .build()
                .map_err(|err| Error::Aws {
                    operation: call.action.clone(),
                    resource_id: t.resource_id.clone(),
                    code: None,
                    message: format!("malformed grantee {e}: {err}"),
                })?;
            acp = acp.grants(
                Grant::builder()
                    .grantee(grantee)
                    .set_permission(g["Permission"].as_str().map(Permission::from))
                    .build(),
            );
        }
        c.s3()
            .put_bucket_acl()
            .bucket(call.str("Bucket")?)
            .access_control_policy(acp.build())
            .send()
            .await
            .map_err(aws_err("s3:PutBucketAcl", t))?;
        Ok(())
    }
}
