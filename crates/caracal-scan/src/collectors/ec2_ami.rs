//! `AWS.EC2.AMI`: DescribeImages owned by the account, in the DescribeImages shape.

use async_trait::async_trait;
use caracal_core::{Resource, ResourceType};
use serde_json::json;

use super::ec2::{merge, tags};
use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, e, list};

pub(crate) struct Images;

#[async_trait]
impl Collector for Images {
    fn resource_type(&self) -> &'static str {
        ResourceType::EC2_AMI
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "ec2", prefix: "image/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["ec2:DescribeImages"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let ec2 = scope.clients().ec2();
        let mut out = Vec::new();
        let mut pages = ec2.describe_images().owners("self").into_paginator().send();
        while let Some(page) = pages.next().await {
            for i in page.op("ec2:DescribeImages")?.images() {
                let Some(id) = i.image_id() else { continue };
                let arn = format!("arn:aws:ec2:{}::image/{id}", scope.region());
                let mut r =
                    Resource::new(&arn, ResourceType::EC2_AMI, scope.account_id(), scope.region());
                r.arn = Some(arn);
                r.id = Some(id.to_owned());
                r.name = i.name().map(str::to_owned);
                r.tags = tags(i.tags());
                r.time_created = i
                    .creation_date()
                    .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                    .map(|d| d.with_timezone(&chrono::Utc));
                merge(
                    &mut r,
                    json!({
                        "ImageId": id,
                        "Architecture": e(i.architecture()),
                        "BlockDeviceMappings": list(i.block_device_mappings(), |b| json!({
                            "DeviceName": b.device_name(),
                            "Ebs": b.ebs().map(|x| json!({
                                "DeleteOnTermination": x.delete_on_termination(),
                                "Encrypted": x.encrypted(),
                                "SnapshotId": x.snapshot_id(),
                                "VolumeSize": x.volume_size(),
                                "VolumeType": e(x.volume_type()),
                            })),
                        })),
                        "CreationDate": i.creation_date(),
                        "DeprecationTime": i.deprecation_time(),
                        "Description": i.description(),
                        "EnaSupport": i.ena_support(),
                        "Hypervisor": e(i.hypervisor()),
                        "ImageLocation": i.image_location(),
                        "ImageType": e(i.image_type()),
                        "OwnerId": i.owner_id(),
                        "Platform": e(i.platform()),
                        "PlatformDetails": i.platform_details(),
                        "Public": i.public(),
                        "RootDeviceName": i.root_device_name(),
                        "RootDeviceType": e(i.root_device_type()),
                        "State": e(i.state()),
                        "VirtualizationType": e(i.virtualization_type()),
                    }),
                );
                out.push(r);
            }
        }
        Ok(Collected { resources: out, ..Default::default() })
    }
}
