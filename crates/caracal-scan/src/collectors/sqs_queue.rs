//! `AWS.SQS.Queue`: ListQueues, then per queue GetQueueAttributes (all) and ListQueueTags.
//! The attributes keep SQS's own names and text values (`Policy` is the access policy as
//! JSON text or null; encryption is `KmsMasterKeyId` or `SqsManagedSseEnabled`). A queue
//! whose tags cannot be read is kept, the failure listed under `caracal:errors`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use caracal_core::Resource;
use serde_json::Value;

use super::{Collected, Collector, Described, DetailErrors, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::CallResult;

const TYPE: &str = "AWS.SQS.Queue";

/// Attributes a policy reads that SQS leaves out when unset: present as null.
const NULLABLE: &[&str] =
    &["KmsMasterKeyId", "Policy", "RedrivePolicy", "SqsManagedSseEnabled", "FifoQueue"];

pub(crate) struct Queues;

#[async_trait]
impl Collector for Queues {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "sqs", prefix: "" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["sqs:ListQueues", "sqs:GetQueueAttributes", "sqs:ListQueueTags"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let sqs = scope.clients().sqs();
        let mut urls = Vec::new();
        let mut pages = sqs.list_queues().into_paginator().send();
        while let Some(page) = pages.next().await {
            urls.extend(page.op("sqs:ListQueues")?.queue_urls().iter().cloned());
        }
        let results = scope
            .each(urls, |url| {
                let sqs = sqs.clone();
                async move { queue(&sqs, scope, &url).await.map_err(|e| e.on(url)) }
            })
            .await;
        // A queue deleted between ListQueues and GetQueueAttributes is simply not there.
        Ok(Collected::from_described(results.into_iter().filter_map(Result::transpose)))
    }
}

async fn queue(sqs: &Client, scope: &Scope, url: &str) -> Result<Option<Described>, CollectError> {
    let Some(out) = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .absent(
            "sqs:GetQueueAttributes",
            &["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"],
        )?
    else {
        return Ok(None);
    };
    let attributes: BTreeMap<String, String> = out
        .attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.as_str().to_owned(), v))
        .collect();
    let name = url.rsplit('/').next().unwrap_or(url);
    let arn = attributes.get("QueueArn").cloned().unwrap_or_else(|| scope.arn("sqs", name));
    let mut failed = DetailErrors::default();
    let tags = failed.keep(
        sqs.list_queue_tags()
            .queue_url(url)
            .send()
            .await
            .op("sqs:ListQueueTags")
            .map_err(|e| e.on(url))
            .map(|o| o.tags.unwrap_or_default().into_iter().collect()),
    );
    let mut r = Resource::new(&arn, TYPE, scope.account_id(), scope.region());
    r.arn = Some(arn);
    r.name = Some(name.to_owned());
    r.tags = tags.unwrap_or_default();
    r.time_created = attributes.get("CreatedTimestamp").map(String::as_str).and_then(epoch);
    for key in NULLABLE {
        r.attributes.insert((*key).to_owned(), Value::Null);
    }
    r.attributes.insert("QueueUrl".to_owned(), Value::String(url.to_owned()));
    for (k, v) in attributes {
        r.attributes.insert(k, Value::String(v));
    }
    Ok(Some(failed.finish(r)))
}

/// Epoch seconds as SQS writes them: whole seconds (AWS) or with a fraction (moto).
fn epoch(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let (secs, _) = text.split_once('.').unwrap_or((text, ""));
    chrono::DateTime::from_timestamp(secs.parse().ok()?, 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn creation_time_reads_whole_and_fractional_seconds() {
        let t = |s| super::epoch(s).map(|t| t.to_rfc3339());
        assert_eq!(t("1700000000").as_deref(), Some("2023-11-14T22:13:20+00:00"));
        assert_eq!(t("1700000000.84").as_deref(), Some("2023-11-14T22:13:20+00:00"));
        assert_eq!(t("soon"), None);
    }
}
