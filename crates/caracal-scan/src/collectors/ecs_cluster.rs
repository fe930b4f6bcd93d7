//! `AWS.ECS.Cluster`: ListClusters, then DescribeClusters for up to 100 clusters a call,
//! with their settings (Container Insights), configuration (ECS Exec logging) and tags,
//! so requests grow with clusters / 100. Attributes keep ECS's own names in PascalCase.

use async_trait::async_trait;
use aws_sdk_ecs::types::{Cluster, ClusterField};
use caracal_core::Resource;
use serde_json::{Value, json};

use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, e, list};

const TYPE: &str = "AWS.ECS.Cluster";

/// DescribeClusters takes at most this many clusters.
const BATCH: usize = 100;

pub(crate) struct Clusters;

#[async_trait]
impl Collector for Clusters {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "ecs", prefix: "cluster/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["ecs:ListClusters", "ecs:DescribeClusters"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let ecs = scope.clients().ecs();
        let mut arns = Vec::new();
        let mut pages = ecs.list_clusters().into_paginator().send();
        while let Some(page) = pages.next().await {
            arns.extend(page.op("ecs:ListClusters")?.cluster_arns().iter().cloned());
        }
        let mut resources = Vec::new();
        for batch in arns.chunks(BATCH) {
            let out = ecs
                .describe_clusters()
                .set_clusters(Some(batch.to_vec()))
                .include(ClusterField::Settings)
                .include(ClusterField::Configurations)
                .include(ClusterField::Tags)
                .send()
                .await
                .op("ecs:DescribeClusters")?;
            // A cluster listed a moment ago but missing now is deleted, not an error.
            resources.extend(out.clusters().iter().map(|c| Ok(cluster(scope, c))));
        }
        Ok(Collected::from_results(resources))
    }
}

fn cluster(scope: &Scope, c: &Cluster) -> Resource {
    let name = c.cluster_name().unwrap_or_default();
    let arn =
        c.cluster_arn().map_or_else(|| scope.arn("ecs", &format!("cluster/{name}")), str::to_owned);
    let mut r = Resource::new(&arn, TYPE, scope.account_id(), scope.region());
    r.arn = Some(arn);
    r.name = Some(name.to_owned());
    r.tags = c
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
        .collect();
    let attributes = json!({
        "ClusterName": name,
        "Status": c.status(),
        "RegisteredContainerInstancesCount": c.registered_container_instances_count(),
        "RunningTasksCount": c.running_tasks_count(),
        "PendingTasksCount": c.pending_tasks_count(),
        "ActiveServicesCount": c.active_services_count(),
        "CapacityProviders": c.capacity_providers(),
        "Settings": list(c.settings(), |s| json!({"Name": e(s.name()), "Value": s.value()})),
        "Configuration": c.configuration().map(|conf| json!({
            "ExecuteCommandConfiguration": conf.execute_command_configuration().map(|x| json!({
                "KmsKeyId": x.kms_key_id(),
                "Logging": e(x.logging()),
            })),
        })),
    });
    if let Value::Object(map) = attributes {
        r.attributes.extend(map);
    }
    r
}
