//! `AWS.KMS.Key`: ListKeys, then per key DescribeKey, GetKeyPolicy, and for customer
//! keys ListResourceTags and (symmetric, not pending deletion) GetKeyRotationStatus.
//! `KeyRotationEnabled` is null where rotation does not apply. A failed DescribeKey drops
//! the key (nothing is known of it); a failed later call keeps it, that call's fields left
//! out and the failure listed under `caracal:errors` (#11.8b).

use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::types::{KeyManagerType, KeySpec, KeyState};
use caracal_core::{Resource, ResourceType};

use super::{Collected, Collector, Described, DetailErrors, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, e, ts};

pub(crate) struct Keys;

#[async_trait]
impl Collector for Keys {
    fn resource_type(&self) -> &'static str {
        ResourceType::KMS_KEY
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "kms", prefix: "key/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "kms:ListKeys",
            "kms:DescribeKey",
            "kms:GetKeyPolicy",
            "kms:GetKeyRotationStatus",
            "kms:ListResourceTags",
        ]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let kms = scope.clients().kms();
        let mut ids = Vec::new();
        let mut pages = kms.list_keys().into_paginator().send();
        while let Some(page) = pages.next().await {
            ids.extend(
                page.op("kms:ListKeys")?
                    .keys()
                    .iter()
                    .filter_map(|k| k.key_id().map(str::to_owned)),
            );
        }
        let results = scope
            .each(ids, |id| {
                let kms = kms.clone();
                async move { key(&kms, scope, &id).await.map_err(|e| e.on(id)) }
            })
            .await;
        Ok(Collected::from_described(results))
    }
}

async fn key(kms: &Client, scope: &Scope, id: &str) -> Result<Described, CollectError> {
    let mut failed = DetailErrors::default();
    let on = |e: CollectError| e.on(id);
    let meta = kms
        .describe_key()
        .key_id(id)
        .send()
        .await
        .op("kms:DescribeKey")?
        .key_metadata
        .ok_or_else(|| CollectError::message("kms:DescribeKey", "no key metadata"))?;
    let customer = meta.key_manager() == Some(&KeyManagerType::Customer);
    let state = meta.key_state();
    let rotatable = customer
        && meta.key_spec().is_none_or(|s| *s == KeySpec::SymmetricDefault)
        && !matches!(
            state,
            Some(KeyState::PendingDeletion | KeyState::PendingImport | KeyState::Unavailable)
        );
    let rotation = if rotatable {
        failed.keep_fields(
            &["KeyRotationEnabled"],
            kms.get_key_rotation_status()
                .key_id(id)
                .send()
                .await
                .op("kms:GetKeyRotationStatus")
                .map_err(on)
                .map(|o| Some(o.key_rotation_enabled())),
        )
    } else {
        Some(None)
    };
    let policy = failed.keep_fields(
        &["Policy"],
        kms.get_key_policy()
            .key_id(id)
            .policy_name("default")
            .send()
            .await
            .op("kms:GetKeyPolicy")
            .map_err(on)
            .map(|o| o.policy),
    );
    let tags = if customer {
        let mut tags = std::collections::BTreeMap::new();
        let mut pages = kms.list_resource_tags().key_id(id).into_paginator().send();
        let mut listed = Ok(());
        while let Some(page) = pages.next().await {
            match page.op("kms:ListResourceTags").map_err(on) {
                Ok(page) => {
                    for t in page.tags() {
                        tags.insert(t.tag_key().to_owned(), t.tag_value().to_owned());
                    }
                }
                Err(e) => {
                    listed = Err(e);
                    break;
                }
            }
        }
        failed.keep(listed).map(|()| tags).unwrap_or_default()
    } else {
        Default::default()
    };
    let arn = meta.arn().map_or_else(|| scope.arn("kms", &format!("key/{id}")), str::to_owned);
    let mut r = Resource::new(&arn, ResourceType::KMS_KEY, scope.account_id(), scope.region());
    r.arn = Some(arn);
    r.id = Some(meta.key_id().to_owned());
    r.tags = tags;
    r.time_created = created(meta.creation_date());
    let mut r = r
        .with("Description", meta.description())
        .with("Enabled", meta.enabled())
        .with("KeyManager", e(meta.key_manager()))
        .with("KeyState", e(state))
        .with("KeyUsage", e(meta.key_usage()))
        .with("KeySpec", e(meta.key_spec()))
        .with("Origin", e(meta.origin()))
        .with("MultiRegion", meta.multi_region())
        .with("DeletionDate", ts(meta.deletion_date()));
    if let Some(rotation) = rotation {
        r = r.with("KeyRotationEnabled", rotation);
    }
    if let Some(policy) = policy {
        r = r.with("Policy", policy);
    }
    Ok(failed.finish(r))
}
