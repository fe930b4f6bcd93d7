//! Member accounts of an AWS Organization, for `[organization]`: ListAccounts (or, with
//! organizational units named, ListAccountsForParent under each OU and its nested OUs),
//! filtered by status, tags (ListTagsForResource per account, only when tags are named)
//! and exclusions. The caller opens one session per account with
//! [`OrganizationConfig::account`].

use std::collections::BTreeSet;

use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::Account;
use caracal_core::config::{AccountConfig, OrganizationConfig};

use crate::error::{Error, chain};

/// One discovered account.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberAccount {
    /// The account id.
    pub id: String,
    /// The account's name in the organization.
    pub name: String,
    /// How to reach it: the `[organization]` roles.
    pub config: AccountConfig,
}

/// Lists the organization's accounts that `org` selects, sorted by id.
pub async fn discover(
    client: &Client,
    org: &OrganizationConfig,
) -> Result<Vec<MemberAccount>, Error> {
    let accounts = if org.organizational_units.is_empty() {
        let mut out = Vec::new();
        let mut pages = client.list_accounts().into_paginator().send();
        while let Some(page) = pages.next().await {
            out.extend(
                page.map_err(call("organizations:ListAccounts"))?.accounts().iter().cloned(),
            );
        }
        out
    } else {
        let mut out = Vec::new();
        for ou in &org.organizational_units {
            under(client, ou, &mut out).await?;
        }
        out
    };
    let mut seen = BTreeSet::new();
    let mut selected = Vec::new();
    for a in accounts {
        let Some(id) = a.id().map(str::to_owned) else { continue };
        if !seen.insert(id.clone()) || org.exclude_accounts.contains(&id) || !status_ok(&a, org) {
            continue;
        }
        if !org.tags.is_empty() && !tagged(client, &id, &org.tags).await? {
            continue;
        }
        selected.push(MemberAccount {
            name: a.name().unwrap_or_default().to_owned(),
            config: org.account(&id),
            id,
        });
    }
    selected.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(selected)
}

fn call<E: std::error::Error + 'static>(operation: &'static str) -> impl Fn(E) -> Error {
    move |e| Error::Organization { operation, reason: chain(&e) }
}

/// Whether the account's status is one `org` scans. Accounts report their status in
/// `State` now (`Status` is deprecated); either matching counts.
fn status_ok(a: &Account, org: &OrganizationConfig) -> bool {
    let wanted = |s: &str| org.statuses.iter().any(|w| w.eq_ignore_ascii_case(s));
    a.state().is_some_and(|s| wanted(s.as_str())) || a.status().is_some_and(|s| wanted(s.as_str()))
}

/// Every account under `parent` and its nested OUs.
async fn under(client: &Client, parent: &str, out: &mut Vec<Account>) -> Result<(), Error> {
    let mut parents = vec![parent.to_owned()];
    while let Some(p) = parents.pop() {
        let mut pages = client.list_accounts_for_parent().parent_id(&p).into_paginator().send();
        while let Some(page) = pages.next().await {
            out.extend(
                page.map_err(call("organizations:ListAccountsForParent"))?
                    .accounts()
                    .iter()
                    .cloned(),
            );
        }
        let mut pages =
            client.list_organizational_units_for_parent().parent_id(&p).into_paginator().send();
        while let Some(page) = pages.next().await {
            parents.extend(
                page.map_err(call("organizations:ListOrganizationalUnitsForParent"))?
                    .organizational_units()
                    .iter()
                    .filter_map(|ou| ou.id().map(str::to_owned)),
            );
        }
    }
    Ok(())
}

/// Whether the account carries one of `wanted` (`Key` or `Key=Value`).
async fn tagged(client: &Client, id: &str, wanted: &[String]) -> Result<bool, Error> {
    let mut tags = Vec::new();
    let mut pages = client.list_tags_for_resource().resource_id(id).into_paginator().send();
    while let Some(page) = pages.next().await {
        tags.extend(
            page.map_err(call("organizations:ListTagsForResource"))?.tags().iter().cloned(),
        );
    }
    Ok(wanted.iter().any(|w| {
        let (key, value) = match w.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (w.as_str(), None),
        };
        tags.iter().any(|t| t.key() == key && value.is_none_or(|v| t.value() == v))
    }))
}
