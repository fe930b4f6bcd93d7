//! EC2: per unit a VPC with a subnet, two security groups (one open to the world), an
//! instance in the open group, two volumes (one unencrypted), and a third volume with two
//! snapshots, one private and one whose create-volume permission is granted to `all`.

use aws_sdk_ec2::types::{
    AttributeBooleanValue, IpPermission, IpRange, Ipv6Range, OperationType,
    ResourceType as Ec2ResourceType, SnapshotAttributeName, Tag, TagSpecification,
};
use caracal_aws::Clients;

use super::error::call;
use super::{SeedError, SeededSecurityGroup, SeededSnapshot, SeededVolume};

fn name_tag(resource: Ec2ResourceType, name: String) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource)
        .tags(Tag::builder().key("Name").value(name).build())
        .tags(Tag::builder().key("caracal:seed").value("true").build())
        .build()
}

/// What one unit made in EC2.
pub(super) struct Ec2Unit {
    /// The VPC id.
    pub(super) vpc: String,
    /// The VPC's subnet id.
    pub(super) subnet: String,
    /// The seeded security groups.
    pub(super) security_groups: Vec<SeededSecurityGroup>,
    /// The instance id.
    pub(super) instance: String,
    /// The volumes made directly.
    pub(super) volumes: Vec<SeededVolume>,
    /// The snapshots, of a volume made for them.
    pub(super) snapshots: Vec<SeededSnapshot>,
}

/// Unit `i`'s EC2 resources.
pub(super) async fn seed(c: &Clients, i: u32) -> Result<Ec2Unit, SeedError> {
    let ec2 = c.ec2();
    let az = format!("{}a", c.region());
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("10.{i}.0.0/16"))
        .tag_specifications(name_tag(Ec2ResourceType::Vpc, format!("seed-{i}-vpc")))
        .send()
        .await
        .map_err(call(format!("VPC of unit {i}")))?
        .vpc
        .and_then(|v| v.vpc_id)
        .ok_or_else(|| SeedError::Call {
            what: format!("VPC of unit {i}"),
            reason: "no id".into(),
        })?;
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block(format!("10.{i}.1.0/24"))
        .availability_zone(&az)
        .send()
        .await
        .map_err(call(format!("subnet of unit {i}")))?
        .subnet
        .and_then(|s| s.subnet_id)
        .ok_or_else(|| SeedError::Call {
            what: format!("subnet of unit {i}"),
            reason: "no id".into(),
        })?;

    let open_name = format!("seed-{i}-open-admin");
    let open = ec2
        .create_security_group()
        .group_name(&open_name)
        .description("seeded: SSH and RDP open to the world")
        .vpc_id(&vpc)
        .send()
        .await
        .map_err(call(format!("security group {open_name}")))?
        .group_id
        .unwrap_or_default();
    let world = |port: i32| {
        IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
    };
    ec2.authorize_security_group_ingress()
        .group_id(&open)
        .ip_permissions(
            world(22).ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build()).build(),
        )
        .ip_permissions(world(3389).build())
        .send()
        .await
        .map_err(call(format!("ingress of {open_name}")))?;

    let web_name = format!("seed-{i}-web-internal");
    let web = ec2
        .create_security_group()
        .group_name(&web_name)
        .description("seeded: HTTPS from the private network only")
        .vpc_id(&vpc)
        .send()
        .await
        .map_err(call(format!("security group {web_name}")))?
        .group_id
        .unwrap_or_default();
    ec2.authorize_security_group_ingress()
        .group_id(&web)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(443)
                .to_port(443)
                .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
                .build(),
        )
        .send()
        .await
        .map_err(call(format!("ingress of {web_name}")))?;

    let instance = ec2
        .run_instances()
        .image_id("ami-0c1a5e5eed0c0de01")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .subnet_id(&subnet)
        .security_group_ids(&open)
        .tag_specifications(name_tag(Ec2ResourceType::Instance, format!("seed-{i}-instance")))
        .send()
        .await
        .map_err(call(format!("instance of unit {i}")))?
        .instances
        .unwrap_or_default()
        .into_iter()
        .next()
        .and_then(|inst| inst.instance_id)
        .ok_or_else(|| SeedError::Call {
            what: format!("instance of unit {i}"),
            reason: "no id".into(),
        })?;

    let mut volumes = Vec::new();
    for encrypted in [true, false] {
        let kind = if encrypted { "encrypted" } else { "unencrypted" };
        let id = ec2
            .create_volume()
            .availability_zone(&az)
            .size(8)
            .encrypted(encrypted)
            .tag_specifications(name_tag(Ec2ResourceType::Volume, format!("seed-{i}-{kind}")))
            .send()
            .await
            .map_err(call(format!("{kind} volume of unit {i}")))?
            .volume_id
            .unwrap_or_default();
        volumes.push(SeededVolume { id, encrypted });
    }
    let snapshots = snapshots(&ec2, &az, i).await?;
    // Keep the VPC's DNS defaults explicit so snapshots are stable across moto versions.
    ec2.modify_vpc_attribute()
        .vpc_id(&vpc)
        .enable_dns_support(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .map_err(call(format!("DNS support of {vpc}")))?;

    let groups = vec![
        SeededSecurityGroup { id: open, name: open_name, open_ports: vec![22, 3389] },
        SeededSecurityGroup { id: web, name: web_name, open_ports: vec![] },
    ];
    Ok(Ec2Unit { vpc, subnet, security_groups: groups, instance, volumes, snapshots })
}

/// A volume made for snapshots (not in [`Ec2Unit::volumes`], so volume remediations see
/// only their own), its `private` snapshot and its `public` one, shared with `all`.
async fn snapshots(
    ec2: &aws_sdk_ec2::Client,
    az: &str,
    i: u32,
) -> Result<Vec<SeededSnapshot>, SeedError> {
    let what = format!("snapshot source volume of unit {i}");
    let volume = ec2
        .create_volume()
        .availability_zone(az)
        .size(8)
        .encrypted(true)
        .tag_specifications(name_tag(Ec2ResourceType::Volume, format!("seed-{i}-snapshot-source")))
        .send()
        .await
        .map_err(call(what))?
        .volume_id
        .unwrap_or_default();
    let mut out = Vec::new();
    for public in [false, true] {
        let kind = if public { "public" } else { "private" };
        let what = format!("{kind} snapshot of unit {i}");
        let id = ec2
            .create_snapshot()
            .volume_id(&volume)
            .description(format!("seed-{i}-{kind}"))
            .tag_specifications(name_tag(Ec2ResourceType::Snapshot, format!("seed-{i}-{kind}")))
            .send()
            .await
            .map_err(call(what.clone()))?
            .snapshot_id
            .unwrap_or_default();
        if public {
            // moto ignores the CreateVolumePermission modifications form; it reads the
            // operation type and group names (both are valid AWS requests).
            ec2.modify_snapshot_attribute()
                .snapshot_id(&id)
                .attribute(SnapshotAttributeName::CreateVolumePermission)
                .operation_type(OperationType::Add)
                .group_names("all")
                .send()
                .await
                .map_err(call(what))?;
        }
        out.push(SeededSnapshot { id, volume_id: volume.clone(), public });
    }
    Ok(out)
}
