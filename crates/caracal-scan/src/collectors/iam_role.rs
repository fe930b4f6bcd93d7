//! `AWS.IAM.Role`: GetAccountAuthorizationDetails (trust and permission policies, tags)
//! joined with ListRoles (`Description`, `MaxSessionDuration`, which the former lacks).

use std::collections::HashMap;

use async_trait::async_trait;
use caracal_core::resource::GLOBAL_REGION;
use caracal_core::{Resource, ResourceType};
use serde_json::{Value, json};

use super::iam::{boundary, inline_policies, policy_names, tags};
use super::{Collected, Collector, IdShape, ListingScope, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, policy_document, ts};

pub(crate) struct Roles;

#[async_trait]
impl Collector for Roles {
    fn resource_type(&self) -> &'static str {
        ResourceType::IAM_ROLE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::ArnWithPath { service: "iam", prefix: "role/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["iam:GetAccountAuthorizationDetails", "iam:ListRoles"]
    }

    fn listing_scope(&self) -> ListingScope {
        ListingScope::Global
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let iam = scope.clients().iam();
        let details = scope.shared().auth_details(scope).await?;
        let mut listed = HashMap::new();
        let mut pages = iam.list_roles().max_items(1000).into_paginator().send();
        while let Some(page) = pages.next().await {
            for role in page.op("iam:ListRoles")?.roles() {
                listed.insert(
                    role.arn().to_owned(),
                    (role.description().map(str::to_owned), role.max_session_duration()),
                );
            }
        }
        let mut out = Vec::new();
        for role in &details.roles {
            let Some(arn) = role.arn() else { continue };
            let (description, max_session) = listed.get(arn).cloned().unwrap_or_default();
            let mut r =
                Resource::new(arn, ResourceType::IAM_ROLE, scope.account_id(), GLOBAL_REGION);
            r.arn = Some(arn.to_owned());
            r.id = role.role_id().map(str::to_owned);
            r.name = role.role_name().map(str::to_owned);
            r.tags = tags(role.tags());
            r.time_created = created(role.create_date());
            out.push(
                r.with(
                    "AssumeRolePolicyDocument",
                    role.assume_role_policy_document().map(policy_document),
                )
                .with("Description", description)
                .with("MaxSessionDuration", max_session)
                .with("Path", role.path())
                .with("PermissionsBoundary", boundary(role.permissions_boundary()))
                .with("InlinePolicies", inline_policies(role.role_policy_list()))
                .with("ManagedPolicyNames", policy_names(role.attached_managed_policies()))
                .with(
                    "RoleLastUsed",
                    role.role_last_used().map_or(
                        Value::Null,
                        |u| json!({"LastUsedDate": ts(u.last_used_date()), "Region": u.region()}),
                    ),
                )
                .with(
                    "InstanceProfiles",
                    role.instance_profile_list().iter().map(|p| p.arn()).collect::<Vec<_>>(),
                ),
            );
        }
        Ok(Collected { resources: out, ..Default::default() })
    }
}
