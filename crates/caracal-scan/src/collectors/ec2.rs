//! EC2 mappings shared by several collectors (a VPC embeds its security groups and network
//! ACLs in the same shape as their own snapshots).

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{IpPermission, NetworkAcl, SecurityGroup, Tag};
use serde_json::{Value, json};

use crate::sdk::{e, list};

/// EC2 tags as the envelope's map.
pub(super) fn tags(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
        .collect()
}

/// The `Name` tag, EC2's display name.
pub(super) fn name_tag(tags: &[Tag]) -> Option<String> {
    tags.iter().find(|t| t.key() == Some("Name")).and_then(|t| t.value()).map(str::to_owned)
}

fn ip_permission(p: &IpPermission) -> Value {
    json!({
        "IpProtocol": p.ip_protocol(),
        "FromPort": p.from_port(),
        "ToPort": p.to_port(),
        "IpRanges": list(p.ip_ranges(), |r| json!({"CidrIp": r.cidr_ip(), "Description": r.description()})),
        "Ipv6Ranges": list(p.ipv6_ranges(), |r| json!({"CidrIpv6": r.cidr_ipv6(), "Description": r.description()})),
        "PrefixListIds": list(p.prefix_list_ids(), |r| json!({"PrefixListId": r.prefix_list_id(), "Description": r.description()})),
        "UserIdGroupPairs": list(p.user_id_group_pairs(), |u| json!({
            "GroupId": u.group_id(),
            "GroupName": u.group_name(),
            "UserId": u.user_id(),
            "VpcId": u.vpc_id(),
            "Description": u.description(),
        })),
    })
}

/// A security group's attributes (`AWS.EC2.SecurityGroup`, and inside `AWS.EC2.VPC`).
pub(super) fn security_group(g: &SecurityGroup) -> Value {
    json!({
        "GroupId": g.group_id(),
        "GroupName": g.group_name(),
        "Description": g.description(),
        "IpPermissions": list(g.ip_permissions(), ip_permission),
        "IpPermissionsEgress": list(g.ip_permissions_egress(), ip_permission),
        "OwnerId": g.owner_id(),
        "VpcId": g.vpc_id(),
    })
}

/// A network ACL's attributes (`AWS.EC2.NetworkACL`, and inside `AWS.EC2.VPC`).
pub(super) fn network_acl(n: &NetworkAcl) -> Value {
    json!({
        "NetworkAclId": n.network_acl_id(),
        "Associations": list(n.associations(), |a| json!({
            "NetworkAclAssociationId": a.network_acl_association_id(),
            "NetworkAclId": a.network_acl_id(),
            "SubnetId": a.subnet_id(),
        })),
        "Entries": list(n.entries(), |x| json!({
            "CidrBlock": x.cidr_block(),
            "Ipv6CidrBlock": x.ipv6_cidr_block(),
            "Egress": x.egress(),
            "IcmpTypeCode": x.icmp_type_code().map(|i| json!({"Code": i.code(), "Type": i.r#type()})),
            "PortRange": x.port_range().map(|p| json!({"From": p.from(), "To": p.to()})),
            "Protocol": x.protocol(),
            "RuleAction": e(x.rule_action()),
            "RuleNumber": x.rule_number(),
        })),
        "IsDefault": n.is_default(),
        "OwnerId": n.owner_id(),
        "VpcId": n.vpc_id(),
    })
}

/// Merges a JSON object's keys into a resource's attributes.
pub(super) fn merge(r: &mut caracal_core::Resource, attributes: Value) {
    if let Value::Object(map) = attributes {
        r.attributes.extend(map);
    }
}
