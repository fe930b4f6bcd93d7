//! `AWS.Redshift.Cluster`: DescribeClusters (configuration and tags of every cluster), then
//! per cluster DescribeLoggingStatus (audit logging, which DescribeClusters lacks), one
//! call per cluster. Attributes keep Redshift's names (Panther's): `PubliclyAccessible`,
//! `Encrypted`, `KmsKeyId`, `EnhancedVpcRouting`, `LoggingStatus`, ... A cluster whose
//! logging status cannot be read is kept without `LoggingStatus`, the failure listed
//! under `caracal:errors`.

use async_trait::async_trait;
use aws_sdk_redshift::types::Cluster;
use caracal_core::Resource;
use serde_json::{Value, json};

use super::{Collected, Collector, Described, DetailErrors, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, list, ts};

const TYPE: &str = "AWS.Redshift.Cluster";

pub(crate) struct Clusters;

#[async_trait]
impl Collector for Clusters {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "redshift", prefix: "cluster:" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["redshift:DescribeClusters", "redshift:DescribeLoggingStatus"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let redshift = scope.clients().redshift();
        let mut clusters = Vec::new();
        let mut pages = redshift.describe_clusters().into_paginator().send();
        while let Some(page) = pages.next().await {
            clusters.extend(page.op("redshift:DescribeClusters")?.clusters().iter().cloned());
        }
        let redshift = &redshift;
        let results = scope
            .each(clusters, |c| async move {
                let name = c.cluster_identifier().unwrap_or_default().to_owned();
                let mut failed = DetailErrors::default();
                let logging = failed.keep(
                    redshift
                        .describe_logging_status()
                        .cluster_identifier(&name)
                        .send()
                        .await
                        .op("redshift:DescribeLoggingStatus")
                        .map_err(|e| e.on(&name)),
                );
                let mut r = cluster(scope, &c);
                if let Some(l) = logging {
                    r = r.with(
                        "LoggingStatus",
                        json!({
                            "LoggingEnabled": l.logging_enabled().unwrap_or(false),
                            "BucketName": l.bucket_name(),
                            "S3KeyPrefix": l.s3_key_prefix(),
                            "LogDestinationType": l.log_destination_type().map(|t| t.as_str()),
                            "LogExports": l.log_exports(),
                            "LastSuccessfulDeliveryTime": ts(l.last_successful_delivery_time()),
                            "LastFailureMessage": l.last_failure_message(),
                        }),
                    );
                }
                Ok::<Described, CollectError>(failed.finish(r))
            })
            .await;
        Ok(Collected::from_described(results))
    }
}

pub(super) fn cluster(scope: &Scope, c: &Cluster) -> Resource {
    let name = c.cluster_identifier().unwrap_or_default();
    let arn = scope.arn("redshift", &format!("cluster:{name}"));
    let mut r = Resource::new(&arn, TYPE, scope.account_id(), scope.region());
    r.arn = Some(arn);
    r.id = Some(name.to_owned());
    r.name = Some(name.to_owned());
    r.tags = c
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
        .collect();
    r.time_created = created(c.cluster_create_time());
    if let Value::Object(map) = attributes(c) {
        r.attributes.extend(map);
    }
    r
}

fn attributes(c: &Cluster) -> Value {
    json!({
        "ClusterIdentifier": c.cluster_identifier(),
        "ClusterNamespaceArn": c.cluster_namespace_arn(),
        "ClusterStatus": c.cluster_status(),
        "ClusterVersion": c.cluster_version(),
        "NodeType": c.node_type(),
        "NumberOfNodes": c.number_of_nodes(),
        "DBName": c.db_name(),
        "MasterUsername": c.master_username(),
        "Endpoint": c.endpoint().map(|p| json!({"Address": p.address(), "Port": p.port()})),
        "ClusterCreateTime": ts(c.cluster_create_time()),
        "AvailabilityZone": c.availability_zone(),
        "VpcId": c.vpc_id(),
        "ClusterSubnetGroupName": c.cluster_subnet_group_name(),
        "VpcSecurityGroups": list(c.vpc_security_groups(), |g| json!({
            "VpcSecurityGroupId": g.vpc_security_group_id(),
            "Status": g.status(),
        })),
        "ClusterParameterGroups": list(c.cluster_parameter_groups(), |g| json!({
            "ParameterGroupName": g.parameter_group_name(),
            "ParameterApplyStatus": g.parameter_apply_status(),
        })),
        "PubliclyAccessible": c.publicly_accessible().unwrap_or(false),
        "Encrypted": c.encrypted().unwrap_or(false),
        "KmsKeyId": c.kms_key_id(),
        "EnhancedVpcRouting": c.enhanced_vpc_routing().unwrap_or(false),
        "AllowVersionUpgrade": c.allow_version_upgrade(),
        "AutomatedSnapshotRetentionPeriod": c.automated_snapshot_retention_period(),
        "ManualSnapshotRetentionPeriod": c.manual_snapshot_retention_period(),
        "PreferredMaintenanceWindow": c.preferred_maintenance_window(),
        "IamRoles": list(c.iam_roles(), |r| json!({
            "IamRoleArn": r.iam_role_arn(),
            "ApplyStatus": r.apply_status(),
        })),
        "MaintenanceTrackName": c.maintenance_track_name(),
    })
}
