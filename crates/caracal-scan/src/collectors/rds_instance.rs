//! `AWS.RDS.Instance`: DescribeDBInstances, whose answer carries each instance's whole
//! configuration and its tags, so no per-instance call is made. Attributes keep RDS's own
//! names (`PubliclyAccessible`, `StorageEncrypted`, `BackupRetentionPeriod`,
//! `DeletionProtection`, ...). `LatestRestorableTime` is left out: it moves every few
//! minutes, so every scan would record a change.

use async_trait::async_trait;
use aws_sdk_rds::types::DbInstance;
use caracal_core::Resource;
use serde_json::{Value, json};

use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, list, ts};

const TYPE: &str = "AWS.RDS.Instance";

pub(crate) struct Instances;

#[async_trait]
impl Collector for Instances {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "rds", prefix: "db:" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["rds:DescribeDBInstances"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let rds = scope.clients().rds();
        let mut resources = Vec::new();
        let mut pages = rds.describe_db_instances().into_paginator().send();
        while let Some(page) = pages.next().await {
            for db in page.op("rds:DescribeDBInstances")?.db_instances() {
                resources.push(Ok(instance(scope, db)));
            }
        }
        Ok(Collected::from_results(resources))
    }
}

fn instance(scope: &Scope, db: &DbInstance) -> Resource {
    let name = db.db_instance_identifier().unwrap_or_default();
    let arn =
        db.db_instance_arn().map_or_else(|| scope.arn("rds", &format!("db:{name}")), str::to_owned);
    let mut r = Resource::new(&arn, TYPE, scope.account_id(), scope.region());
    r.arn = Some(arn);
    r.id = db.dbi_resource_id().map(str::to_owned);
    r.name = Some(name.to_owned());
    r.tags = db
        .tag_list()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
        .collect();
    r.time_created = created(db.instance_create_time());
    if let Value::Object(map) = attributes(db) {
        r.attributes.extend(map);
    }
    r
}

fn attributes(db: &DbInstance) -> Value {
    json!({
        "DBInstanceIdentifier": db.db_instance_identifier(),
        "DBInstanceArn": db.db_instance_arn(),
        "DBInstanceClass": db.db_instance_class(),
        "DBInstanceStatus": db.db_instance_status(),
        "DbiResourceId": db.dbi_resource_id(),
        "DBName": db.db_name(),
        "DBClusterIdentifier": db.db_cluster_identifier(),
        "Engine": db.engine(),
        "EngineVersion": db.engine_version(),
        "MasterUsername": db.master_username(),
        "Endpoint": db.endpoint().map(|e| json!({
            "Address": e.address(),
            "Port": e.port(),
            "HostedZoneId": e.hosted_zone_id(),
        })),
        "AllocatedStorage": db.allocated_storage(),
        "StorageType": db.storage_type(),
        "Iops": db.iops(),
        "StorageEncrypted": db.storage_encrypted().unwrap_or(false),
        "KmsKeyId": db.kms_key_id(),
        "InstanceCreateTime": ts(db.instance_create_time()),
        "AvailabilityZone": db.availability_zone(),
        "MultiAZ": db.multi_az(),
        "PubliclyAccessible": db.publicly_accessible().unwrap_or(false),
        "BackupRetentionPeriod": db.backup_retention_period(),
        "PreferredBackupWindow": db.preferred_backup_window(),
        "PreferredMaintenanceWindow": db.preferred_maintenance_window(),
        "AutoMinorVersionUpgrade": db.auto_minor_version_upgrade(),
        "DeletionProtection": db.deletion_protection().unwrap_or(false),
        "CopyTagsToSnapshot": db.copy_tags_to_snapshot(),
        "IAMDatabaseAuthenticationEnabled": db.iam_database_authentication_enabled(),
        "PerformanceInsightsEnabled": db.performance_insights_enabled(),
        "MonitoringInterval": db.monitoring_interval(),
        "EnabledCloudwatchLogsExports": db.enabled_cloudwatch_logs_exports(),
        "CACertificateIdentifier": db.ca_certificate_identifier(),
        "DBSubnetGroup": db.db_subnet_group().map(|g| json!({
            "DBSubnetGroupName": g.db_subnet_group_name(),
            "VpcId": g.vpc_id(),
            "SubnetGroupStatus": g.subnet_group_status(),
        })),
        "VpcSecurityGroups": list(db.vpc_security_groups(), |g| json!({
            "VpcSecurityGroupId": g.vpc_security_group_id(),
            "Status": g.status(),
        })),
        "DBParameterGroups": list(db.db_parameter_groups(), |g| json!({
            "DBParameterGroupName": g.db_parameter_group_name(),
            "ParameterApplyStatus": g.parameter_apply_status(),
        })),
        "OptionGroupMemberships": list(db.option_group_memberships(), |g| json!({
            "OptionGroupName": g.option_group_name(),
            "Status": g.status(),
        })),
        "ReadReplicaDBInstanceIdentifiers": db.read_replica_db_instance_identifiers(),
        "ReadReplicaSourceDBInstanceIdentifier": db.read_replica_source_db_instance_identifier(),
    })
}
