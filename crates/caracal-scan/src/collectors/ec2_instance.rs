//! `AWS.EC2.Instance`: DescribeInstances, one snapshot per instance in the DescribeInstances
//! shape.

use async_trait::async_trait;
use aws_sdk_ec2::types::Instance;
use caracal_core::{Resource, ResourceType};
use serde_json::{Value, json};

use super::ec2::{merge, name_tag, tags};
use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, e, list, ts};

pub(crate) struct Instances;

#[async_trait]
impl Collector for Instances {
    fn resource_type(&self) -> &'static str {
        ResourceType::EC2_INSTANCE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "ec2", prefix: "instance/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["ec2:DescribeInstances"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let ec2 = scope.clients().ec2();
        let mut out = Vec::new();
        let mut pages = ec2.describe_instances().into_paginator().send();
        while let Some(page) = pages.next().await {
            for reservation in page.op("ec2:DescribeInstances")?.reservations() {
                for i in reservation.instances() {
                    let Some(id) = i.instance_id() else { continue };
                    let arn = scope.arn("ec2", &format!("instance/{id}"));
                    let mut r = Resource::new(
                        &arn,
                        ResourceType::EC2_INSTANCE,
                        scope.account_id(),
                        scope.region(),
                    );
                    r.arn = Some(arn);
                    r.id = Some(id.to_owned());
                    r.name = name_tag(i.tags());
                    r.tags = tags(i.tags());
                    r.time_created = created(i.launch_time());
                    merge(&mut r, instance(i));
                    out.push(r);
                }
            }
        }
        Ok(Collected { resources: out, ..Default::default() })
    }
}

fn instance(i: &Instance) -> Value {
    json!({
        "InstanceId": i.instance_id(),
        "ImageId": i.image_id(),
        "InstanceType": e(i.instance_type()),
        "KeyName": i.key_name(),
        "LaunchTime": ts(i.launch_time()),
        "Architecture": e(i.architecture()),
        "EbsOptimized": i.ebs_optimized(),
        "EnaSupport": i.ena_support(),
        "Hypervisor": e(i.hypervisor()),
        "IamInstanceProfile": i.iam_instance_profile().map(|p| json!({"Arn": p.arn(), "Id": p.id()})),
        "MetadataOptions": i.metadata_options().map(|m| json!({
            "HttpEndpoint": e(m.http_endpoint()),
            "HttpPutResponseHopLimit": m.http_put_response_hop_limit(),
            "HttpTokens": e(m.http_tokens()),
            "HttpProtocolIpv6": e(m.http_protocol_ipv6()),
            "InstanceMetadataTags": e(m.instance_metadata_tags()),
            "State": e(m.state()),
        })),
        "Monitoring": i.monitoring().map(|m| json!({"State": e(m.state())})),
        "NetworkInterfaces": list(i.network_interfaces(), |n| json!({
            "NetworkInterfaceId": n.network_interface_id(),
            "SubnetId": n.subnet_id(),
            "VpcId": n.vpc_id(),
            "PrivateIpAddress": n.private_ip_address(),
            "Association": n.association().map(|a| json!({"PublicIp": a.public_ip(), "PublicDnsName": a.public_dns_name()})),
            "Groups": list(n.groups(), |g| json!({"GroupId": g.group_id(), "GroupName": g.group_name()})),
            "SourceDestCheck": n.source_dest_check(),
            "Status": e(n.status()),
        })),
        "Placement": i.placement().map(|p| json!({
            "AvailabilityZone": p.availability_zone(),
            "GroupName": p.group_name(),
            "Tenancy": e(p.tenancy()),
        })),
        "Platform": e(i.platform()),
        "PlatformDetails": i.platform_details(),
        "PrivateDnsName": i.private_dns_name(),
        "PrivateIpAddress": i.private_ip_address(),
        "PublicDnsName": i.public_dns_name(),
        "PublicIpAddress": i.public_ip_address(),
        "RootDeviceName": i.root_device_name(),
        "RootDeviceType": e(i.root_device_type()),
        "SecurityGroups": list(i.security_groups(), |g| json!({"GroupId": g.group_id(), "GroupName": g.group_name()})),
        "SourceDestCheck": i.source_dest_check(),
        "State": i.state().map(|s| json!({"Code": s.code(), "Name": e(s.name())})),
        "StateTransitionReason": i.state_transition_reason(),
        "SubnetId": i.subnet_id(),
        "VirtualizationType": e(i.virtualization_type()),
        "VpcId": i.vpc_id(),
        "BlockDeviceMappings": list(i.block_device_mappings(), |b| json!({
            "DeviceName": b.device_name(),
            "Ebs": b.ebs().map(|x| json!({
                "AttachTime": ts(x.attach_time()),
                "DeleteOnTermination": x.delete_on_termination(),
                "Status": e(x.status()),
                "VolumeId": x.volume_id(),
            })),
        })),
    })
}
