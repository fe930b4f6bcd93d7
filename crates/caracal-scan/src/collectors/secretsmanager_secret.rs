//! `AWS.SecretsManager.Secret`: ListSecrets, whose entries carry each secret's rotation
//! settings, dates, KMS key and tags, so no per-secret call is made. Secret values are
//! never read. Attributes keep Secrets Manager's own names.

use async_trait::async_trait;
use aws_sdk_secretsmanager::types::SecretListEntry;
use caracal_core::Resource;
use serde_json::{Value, json};

use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, ts};

const TYPE: &str = "AWS.SecretsManager.Secret";

pub(crate) struct Secrets;

#[async_trait]
impl Collector for Secrets {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "secretsmanager", prefix: "secret:" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["secretsmanager:ListSecrets"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let sm = scope.clients().secretsmanager();
        let mut resources = Vec::new();
        let mut pages = sm.list_secrets().into_paginator().send();
        while let Some(page) = pages.next().await {
            for s in page.op("secretsmanager:ListSecrets")?.secret_list() {
                resources.push(Ok(secret(scope, s)));
            }
        }
        Ok(Collected::from_results(resources))
    }
}

fn secret(scope: &Scope, s: &SecretListEntry) -> Resource {
    let name = s.name().unwrap_or_default();
    let arn = s
        .arn()
        .map_or_else(|| scope.arn("secretsmanager", &format!("secret:{name}")), str::to_owned);
    let mut r = Resource::new(&arn, TYPE, scope.account_id(), scope.region());
    r.arn = Some(arn);
    r.name = Some(name.to_owned());
    r.tags = s
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
        .collect();
    r.time_created = created(s.created_date());
    let attributes = json!({
        "Description": s.description(),
        "KmsKeyId": s.kms_key_id(),
        "RotationEnabled": s.rotation_enabled().unwrap_or(false),
        "RotationLambdaARN": s.rotation_lambda_arn(),
        "RotationRules": s.rotation_rules().map(|r| json!({
            "AutomaticallyAfterDays": r.automatically_after_days(),
            "ScheduleExpression": r.schedule_expression(),
            "Duration": r.duration(),
        })),
        "LastRotatedDate": ts(s.last_rotated_date()),
        "LastChangedDate": ts(s.last_changed_date()),
        "LastAccessedDate": ts(s.last_accessed_date()),
        "NextRotationDate": ts(s.next_rotation_date()),
        "DeletedDate": ts(s.deleted_date()),
        "CreatedDate": ts(s.created_date()),
        "OwningService": s.owning_service(),
        "PrimaryRegion": s.primary_region(),
    });
    if let Value::Object(map) = attributes {
        r.attributes.extend(map);
    }
    r
}
