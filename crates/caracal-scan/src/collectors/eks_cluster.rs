//! `AWS.EKS.Cluster`: ListClusters, then DescribeCluster per cluster (endpoint access,
//! control-plane logging, secrets encryption, version and tags all come with it).
//! Attributes keep EKS's own names in PascalCase, as the other types do.

use async_trait::async_trait;
use aws_sdk_eks::Client;
use aws_sdk_eks::types::Cluster;
use caracal_core::Resource;
use serde_json::{Value, json};

use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, e, list, ts};

const TYPE: &str = "AWS.EKS.Cluster";

pub(crate) struct Clusters;

#[async_trait]
impl Collector for Clusters {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "eks", prefix: "cluster/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["eks:ListClusters", "eks:DescribeCluster"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let eks = scope.clients().eks();
        let mut names = Vec::new();
        let mut pages = eks.list_clusters().into_paginator().send();
        while let Some(page) = pages.next().await {
            names.extend(page.op("eks:ListClusters")?.clusters().iter().cloned());
        }
        let results = scope
            .each(names, |name| {
                let eks = eks.clone();
                async move { cluster(&eks, scope, &name).await.map_err(|e| e.on(name)) }
            })
            .await;
        // A cluster deleted between ListClusters and DescribeCluster is simply not there.
        Ok(Collected::from_results(results.into_iter().filter_map(Result::transpose)))
    }
}

async fn cluster(
    eks: &Client,
    scope: &Scope,
    name: &str,
) -> Result<Option<Resource>, CollectError> {
    let Some(c) = eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .absent("eks:DescribeCluster", &["ResourceNotFoundException"])?
        .and_then(|o| o.cluster)
    else {
        return Ok(None);
    };
    let arn = c.arn().map_or_else(|| scope.arn("eks", &format!("cluster/{name}")), str::to_owned);
    let mut r = Resource::new(&arn, TYPE, scope.account_id(), scope.region());
    r.arn = Some(arn);
    r.id = c.id().map(str::to_owned);
    r.name = Some(name.to_owned());
    r.tags = c.tags().map(|t| t.clone().into_iter().collect()).unwrap_or_default();
    r.time_created = created(c.created_at());
    if let Value::Object(map) = attributes(&c) {
        r.attributes.extend(map);
    }
    Ok(Some(r))
}

fn attributes(c: &Cluster) -> Value {
    json!({
        "Version": c.version(),
        "PlatformVersion": c.platform_version(),
        "Status": e(c.status()),
        "RoleArn": c.role_arn(),
        "Endpoint": c.endpoint(),
        "CreatedAt": ts(c.created_at()),
        "ResourcesVpcConfig": c.resources_vpc_config().map(|v| json!({
            "SubnetIds": v.subnet_ids(),
            "SecurityGroupIds": v.security_group_ids(),
            "ClusterSecurityGroupId": v.cluster_security_group_id(),
            "VpcId": v.vpc_id(),
            "EndpointPublicAccess": v.endpoint_public_access(),
            "EndpointPrivateAccess": v.endpoint_private_access(),
            "PublicAccessCidrs": v.public_access_cidrs(),
        })),
        "Logging": c.logging().map(|l| json!({
            "ClusterLogging": list(l.cluster_logging(), |s| json!({
                "Types": list(s.types(), |t| Value::String(t.as_str().to_owned())),
                "Enabled": s.enabled(),
            })),
        })),
        // Only the key: the config's `resources` list is deprecated (EKS now encrypts
        // all Kubernetes API data), so the key is what tells a customer key apart.
        "EncryptionConfig": list(c.encryption_config(), |e| json!({
            "Provider": e.provider().map(|p| json!({"KeyArn": p.key_arn()})),
        })),
        "KubernetesNetworkConfig": c.kubernetes_network_config().map(|k| json!({
            "ServiceIpv4Cidr": k.service_ipv4_cidr(),
            "IpFamily": e(k.ip_family()),
        })),
        "AccessConfig": c.access_config().map(|a| json!({
            "AuthenticationMode": e(a.authentication_mode()),
            "BootstrapClusterCreatorAdminPermissions": a.bootstrap_cluster_creator_admin_permissions(),
        })),
    })
}
