//! `AWS.IAM.User`: GetAccountAuthorizationDetails for users and groups (policies, tags,
//! and the group objects of `Groups`), ListUsers (`PasswordLastUsed`), the credential
//! report, virtual MFA devices (those three shared with the other IAM collectors, once
//! per scan), and per user ListAccessKeys, then GetAccessKeyLastUsed per key. Keys are
//! always listed: the credential report may be hours old.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_iam::Client;
use aws_sdk_iam::types::GroupDetail;
use caracal_core::resource::GLOBAL_REGION;
use caracal_core::{Resource, ResourceType};
use serde_json::{Value, json};

use super::iam::{boundary, inline_policies, policy_names, tags};
use super::{Collected, Collector, DetailErrors, IdShape, ListingScope, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, e, ts};

pub(crate) struct Users;

#[async_trait]
impl Collector for Users {
    fn resource_type(&self) -> &'static str {
        ResourceType::IAM_USER
    }

    fn id_shape(&self) -> IdShape {
        IdShape::ArnWithPath { service: "iam", prefix: "user/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "iam:GetAccountAuthorizationDetails",
            "iam:ListUsers",
            "iam:GenerateCredentialReport",
            "iam:GetCredentialReport",
            "iam:ListVirtualMFADevices",
            "iam:ListAccessKeys",
            "iam:GetAccessKeyLastUsed",
        ]
    }

    fn listing_scope(&self) -> ListingScope {
        ListingScope::Global
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let iam = scope.clients().iam();
        let details = scope.shared().auth_details(scope).await?;
        let groups: HashMap<&str, Value> =
            details.groups.iter().filter_map(|g| Some((g.group_name()?, group(g)))).collect();
        let mut last_used: HashMap<String, Option<aws_smithy_types::DateTime>> = HashMap::new();
        let mut pages = iam.list_users().max_items(1000).into_paginator().send();
        while let Some(page) = pages.next().await {
            for u in page.op("iam:ListUsers")?.users() {
                last_used.insert(u.user_name().to_owned(), u.password_last_used().copied());
            }
        }
        let report = scope.shared().credential_report(scope).await?;
        let mfa = scope.shared().virtual_mfa(scope).await?;
        let (report, mfa, last_used, groups) = (&*report, &*mfa, &last_used, &groups);

        let results = scope
            .each(details.users.iter().collect(), |u| {
                let iam = iam.clone();
                async move {
                    let name = u.user_name().unwrap_or_default().to_owned();
                    let arn = u.arn().unwrap_or_default().to_owned();
                    let row = report.get(&name).cloned();
                    // A failed access-key read keeps the user, the keys unknown (#11.8b).
                    let mut failed = DetailErrors::default();
                    let keys = failed.keep_fields(
                        &["AccessKeys"],
                        access_keys(&iam, &name).await.map_err(|e| e.on(&arn)),
                    );
                    let mut r = Resource::new(
                        &arn,
                        ResourceType::IAM_USER,
                        scope.account_id(),
                        GLOBAL_REGION,
                    );
                    r.arn = Some(arn.clone());
                    r.id = u.user_id().map(str::to_owned);
                    r.name = Some(name.clone());
                    r.tags = tags(u.tags());
                    r.time_created = created(u.create_date());
                    r = r
                        .with("Path", u.path())
                        .with("PasswordLastUsed", ts(last_used.get(&name).and_then(Option::as_ref)))
                        .with("PermissionsBoundary", boundary(u.permissions_boundary()))
                        .with("Groups", user_groups(u.group_list(), groups))
                        .with("InlinePolicies", inline_policies(u.user_policy_list()))
                        .with("ManagedPolicyNames", policy_names(u.attached_managed_policies()))
                        .with("VirtualMFA", mfa.get(&arn).cloned().unwrap_or(Value::Null))
                        .with("CredentialReport", row.unwrap_or(Value::Null));
                    if let Some(keys) = keys {
                        r = r.with("AccessKeys", keys);
                    }
                    Ok::<_, CollectError>(failed.finish(r))
                }
            })
            .await;
        Ok(Collected::from_described(results))
    }
}

/// A user's access keys with their last use.
async fn access_keys(iam: &Client, user: &str) -> Result<Value, CollectError> {
    let mut keys = Vec::new();
    let mut pages = iam.list_access_keys().user_name(user).into_paginator().send();
    while let Some(page) = pages.next().await {
        for k in page.op("iam:ListAccessKeys")?.access_key_metadata() {
            let Some(id) = k.access_key_id() else { continue };
            let used = iam
                .get_access_key_last_used()
                .access_key_id(id)
                .send()
                .await
                .op("iam:GetAccessKeyLastUsed")?;
            let used = used.access_key_last_used();
            keys.push(json!({
                "AccessKeyId": id,
                "Status": e(k.status()),
                "CreateDate": ts(k.create_date()),
                "LastUsedDate": ts(used.and_then(|u| u.last_used_date())),
                "LastUsedRegion": used.map(|u| u.region()),
                "LastUsedService": used.map(|u| u.service_name()),
            }));
        }
    }
    Ok(Value::Array(keys))
}

/// A group as ListGroupsForUser returns it: `{Arn, CreateDate, GroupId, GroupName, Path}`.
fn group(g: &GroupDetail) -> Value {
    json!({
        "Arn": g.arn(),
        "CreateDate": ts(g.create_date()),
        "GroupId": g.group_id(),
        "GroupName": g.group_name(),
        "Path": g.path(),
    })
}

/// The user's groups as group objects. A name missing from the group details (a group
/// deleted between pages) keeps its name, the other fields null.
fn user_groups(names: &[String], groups: &HashMap<&str, Value>) -> Value {
    names
        .iter()
        .map(|n| {
            groups.get(n.as_str()).cloned().unwrap_or_else(|| {
                json!({"Arn": null, "CreateDate": null, "GroupId": null, "GroupName": n, "Path": null})
            })
        })
        .collect::<Vec<_>>()
        .into()
}
