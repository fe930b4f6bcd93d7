//! `AWS.SNS.Topic`: ListTopics, then per topic GetTopicAttributes (policy, encryption key,
//! subscription counts, delivery settings) and ListTagsForResource. The attributes keep
//! SNS's own names and text values (`Policy` is the access policy as JSON text;
//! `KmsMasterKeyId` is null when the topic is not encrypted). A topic whose tags cannot be
//! read is kept, the failure listed under `caracal:errors`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_sns::Client;
use caracal_core::Resource;
use serde_json::Value;

use super::{Collected, Collector, Described, DetailErrors, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::CallResult;

const TYPE: &str = "AWS.SNS.Topic";

/// Attributes a policy reads that SNS leaves out when unset: present as null.
const NULLABLE: &[&str] = &["KmsMasterKeyId", "Policy", "DisplayName", "DeliveryPolicy"];

pub(crate) struct Topics;

#[async_trait]
impl Collector for Topics {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "sns", prefix: "" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["sns:ListTopics", "sns:GetTopicAttributes", "sns:ListTagsForResource"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let sns = scope.clients().sns();
        let mut arns = Vec::new();
        let mut pages = sns.list_topics().into_paginator().send();
        while let Some(page) = pages.next().await {
            arns.extend(
                page.op("sns:ListTopics")?.topics().iter().filter_map(|t| t.topic_arn.clone()),
            );
        }
        let results = scope
            .each(arns, |arn| {
                let sns = sns.clone();
                async move { topic(&sns, scope, &arn).await.map_err(|e| e.on(arn)) }
            })
            .await;
        // A topic deleted between ListTopics and GetTopicAttributes is simply not there.
        Ok(Collected::from_described(results.into_iter().filter_map(Result::transpose)))
    }
}

async fn topic(sns: &Client, scope: &Scope, arn: &str) -> Result<Option<Described>, CollectError> {
    let Some(out) = sns
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
        .absent("sns:GetTopicAttributes", &["NotFound", "NotFoundException"])?
    else {
        return Ok(None);
    };
    let mut failed = DetailErrors::default();
    let tags = failed.keep(
        sns.list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .op("sns:ListTagsForResource")
            .map_err(|e| e.on(arn))
            .map(|o| o.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect()),
    );
    let name = arn.rsplit(':').next().unwrap_or(arn);
    let mut r = Resource::new(arn, TYPE, scope.account_id(), scope.region());
    r.arn = Some(arn.to_owned());
    r.name = Some(name.to_owned());
    r.tags = tags.unwrap_or_else(BTreeMap::new);
    for key in NULLABLE {
        r.attributes.insert((*key).to_owned(), Value::Null);
    }
    for (k, v) in out.attributes.unwrap_or_default() {
        r.attributes.insert(k, Value::String(v));
    }
    Ok(Some(failed.finish(r)))
}
