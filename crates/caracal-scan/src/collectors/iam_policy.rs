//! `AWS.IAM.Policy`: GetAccountAuthorizationDetails for local policies and every
//! principal; `Entities` come from the principals' attachments (no call per policy),
//! `PolicyDocument` from the default version.
//!
//! AWS managed policies that are attached to a user, group or role in the account
//! (`AdministratorAccess`, `AWSSupportAccess`, `AWSCloudShellFullAccess`, ... which CIS
//! asks about) are snapshots of the same type with `Scope: "AWS"`, read from the same
//! attachments without another call: `PolicyName`, `AttachmentCount` (the entities in
//! this account) and `Entities`; `PolicyDocument` is null (AWS owns it). Their ARN is
//! the same in every account, so their `ResourceId` is `<account>:<policy ARN>`.

use async_trait::async_trait;
use std::collections::BTreeMap;

use aws_sdk_iam::types::AttachedPolicy;
use caracal_core::resource::GLOBAL_REGION;
use caracal_core::{Resource, ResourceType};
use serde_json::{Value, json};

use super::iam::AuthDetails;
use super::{Collected, Collector, IdShape, ListingScope, Scope};
use crate::error::CollectError;
use crate::sdk::{created, policy_document, ts};

pub(crate) struct Policies;

#[async_trait]
impl Collector for Policies {
    fn resource_type(&self) -> &'static str {
        ResourceType::IAM_POLICY
    }

    fn id_shape(&self) -> IdShape {
        IdShape::ArnWithPath { service: "iam", prefix: "policy/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["iam:GetAccountAuthorizationDetails"]
    }

    fn listing_scope(&self) -> ListingScope {
        ListingScope::Global
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let d = scope.shared().auth_details(scope).await?;
        let attached =
            |list: &[AttachedPolicy], arn: &str| list.iter().any(|p| p.policy_arn() == Some(arn));
        let mut out = Vec::new();
        for p in &d.policies {
            let Some(arn) = p.arn() else { continue };
            let document = p
                .policy_version_list()
                .iter()
                .find(|v| v.is_default_version())
                .and_then(|v| v.document())
                .map(policy_document);
            let entities = json!({
                "PolicyGroups": d.groups.iter().filter(|g| attached(g.attached_managed_policies(), arn))
                    .map(|g| json!({"GroupName": g.group_name(), "GroupId": g.group_id()})).collect::<Vec<_>>(),
                "PolicyRoles": d.roles.iter().filter(|x| attached(x.attached_managed_policies(), arn))
                    .map(|x| json!({"RoleName": x.role_name(), "RoleId": x.role_id()})).collect::<Vec<_>>(),
                "PolicyUsers": d.users.iter().filter(|u| attached(u.attached_managed_policies(), arn))
                    .map(|u| json!({"UserName": u.user_name(), "UserId": u.user_id()})).collect::<Vec<_>>(),
            });
            let mut r =
                Resource::new(arn, ResourceType::IAM_POLICY, scope.account_id(), GLOBAL_REGION);
            r.arn = Some(arn.to_owned());
            r.id = p.policy_id().map(str::to_owned);
            r.name = p.policy_name().map(str::to_owned);
            r.time_created = created(p.create_date());
            out.push(
                r.with("AttachmentCount", p.attachment_count())
                    .with("DefaultVersionId", p.default_version_id())
                    .with("Description", p.description())
                    .with("IsAttachable", p.is_attachable())
                    .with("Path", p.path())
                    .with("PermissionsBoundaryUsageCount", p.permissions_boundary_usage_count())
                    .with("UpdateDate", ts(p.update_date()))
                    .with("Entities", entities)
                    .with("PolicyDocument", document.map_or(Value::Null, Value::String)),
            );
        }
        out.extend(aws_managed(scope.account_id(), &d));
        Ok(Collected { resources: out, ..Default::default() })
    }
}

/// Whether `arn` names an AWS managed policy (`arn:<partition>:iam::aws:policy/...`).
fn is_aws_managed(arn: &str) -> bool {
    arn.split(':').nth(4) == Some("aws")
}

/// The AWS managed policies attached to something in the account, with their entities.
fn aws_managed(account_id: &str, d: &AuthDetails) -> Vec<Resource> {
    // ARN → (name, groups, roles, users)
    type Entities = (String, Vec<Value>, Vec<Value>, Vec<Value>);
    let mut found: BTreeMap<String, Entities> = BTreeMap::new();
    let mut add = |p: &AttachedPolicy, which: usize, v: Value| {
        let Some(arn) = p.policy_arn().filter(|a| is_aws_managed(a)) else { return };
        let name = p.policy_name().unwrap_or_else(|| arn.rsplit('/').next().unwrap_or(arn));
        let e = found
            .entry(arn.to_owned())
            .or_insert_with(|| (name.to_owned(), Vec::new(), Vec::new(), Vec::new()));
        match which {
            0 => e.1.push(v),
            1 => e.2.push(v),
            _ => e.3.push(v),
        }
    };
    for g in &d.groups {
        for p in g.attached_managed_policies() {
            add(p, 0, json!({"GroupName": g.group_name(), "GroupId": g.group_id()}));
        }
    }
    for x in &d.roles {
        for p in x.attached_managed_policies() {
            add(p, 1, json!({"RoleName": x.role_name(), "RoleId": x.role_id()}));
        }
    }
    for u in &d.users {
        for p in u.attached_managed_policies() {
            add(p, 2, json!({"UserName": u.user_name(), "UserId": u.user_id()}));
        }
    }
    found
        .into_iter()
        .map(|(arn, (name, groups, roles, users))| {
            let id = format!("{account_id}:{arn}");
            let mut r = Resource::new(&id, ResourceType::IAM_POLICY, account_id, GLOBAL_REGION);
            r.arn = Some(arn.clone());
            r.name = Some(name.clone());
            let count = groups.len() + roles.len() + users.len();
            r.with("Scope", "AWS")
                .with("PolicyName", name)
                .with("AttachmentCount", count)
                .with(
                    "Entities",
                    json!({"PolicyGroups": groups, "PolicyRoles": roles, "PolicyUsers": users}),
                )
                .with("PolicyDocument", Value::Null)
        })
        .collect()
}
