//! `AWS.IAM.Policy` (customer managed): GetAccountAuthorizationDetails for local policies
//! and every principal; `Entities` come from the principals' attachments (no call per
//! policy), `PolicyDocument` from the default version.

use async_trait::async_trait;
use aws_sdk_iam::types::AttachedPolicy;
use caracal_core::resource::GLOBAL_REGION;
use caracal_core::{Resource, ResourceType};
use serde_json::{Value, json};

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
        Ok(Collected { resources: out, ..Default::default() })
    }
}
