//! `AWS.IAM.Group`: GetAccountAuthorizationDetails for groups and users; a group's
//! `Users` are the users whose group list names it.

use std::collections::HashMap;

use async_trait::async_trait;
use caracal_core::resource::GLOBAL_REGION;
use caracal_core::{Resource, ResourceType};

use super::iam::{inline_policies, policy_arns};
use super::{Collected, Collector, IdShape, ListingScope, Scope};
use crate::error::CollectError;
use crate::sdk::created;

pub(crate) struct Groups;

#[async_trait]
impl Collector for Groups {
    fn resource_type(&self) -> &'static str {
        ResourceType::IAM_GROUP
    }

    fn id_shape(&self) -> IdShape {
        IdShape::ArnWithPath { service: "iam", prefix: "group/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["iam:GetAccountAuthorizationDetails"]
    }

    fn listing_scope(&self) -> ListingScope {
        ListingScope::Global
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let details = scope.shared().auth_details(scope).await?;
        let mut members: HashMap<&str, Vec<&str>> = HashMap::new();
        for u in &details.users {
            for g in u.group_list() {
                members.entry(g.as_str()).or_default().extend(u.user_name());
            }
        }
        let mut out = Vec::new();
        for g in &details.groups {
            let (Some(arn), Some(name)) = (g.arn(), g.group_name()) else { continue };
            let mut r =
                Resource::new(arn, ResourceType::IAM_GROUP, scope.account_id(), GLOBAL_REGION);
            r.arn = Some(arn.to_owned());
            r.id = g.group_id().map(str::to_owned);
            r.name = Some(name.to_owned());
            r.time_created = created(g.create_date());
            out.push(
                r.with("Path", g.path())
                    .with("InlinePolicies", inline_policies(g.group_policy_list()))
                    .with("ManagedPolicyARNs", policy_arns(g.attached_managed_policies()))
                    .with("Users", members.remove(name).unwrap_or_default()),
            );
        }
        Ok(Collected { resources: out, ..Default::default() })
    }
}
