//! ECS: per unit a cluster without Container Insights and one with it.

use aws_sdk_ecs::types::{ClusterSetting, ClusterSettingName};
use caracal_aws::Clients;

use super::error::call;
use super::{SeedError, SeededEcsCluster};

/// Unit `i`'s clusters.
pub(super) async fn seed(c: &Clients, i: u32) -> Result<Vec<SeededEcsCluster>, SeedError> {
    let ecs = c.ecs();
    let mut out = Vec::new();
    for insights in [false, true] {
        let kind = if insights { "insights" } else { "plain" };
        let name = format!("seed-{i}-ecs-{kind}");
        let setting = ClusterSetting::builder()
            .name(ClusterSettingName::ContainerInsights)
            .value(if insights { "enabled" } else { "disabled" })
            .build();
        let arn = ecs
            .create_cluster()
            .cluster_name(&name)
            .settings(setting)
            .send()
            .await
            .map_err(call(format!("ECS cluster {name}")))?
            .cluster
            .and_then(|c| c.cluster_arn)
            .unwrap_or_default();
        out.push(SeededEcsCluster { name, arn, container_insights: insights });
    }
    Ok(out)
}
