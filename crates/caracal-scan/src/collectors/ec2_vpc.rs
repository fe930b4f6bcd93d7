//! `AWS.EC2.VPC`: DescribeVpcs, joined with the region's flow logs, network ACLs, route
//! tables and security groups (one listing each, not one call per VPC).

use async_trait::async_trait;
use caracal_core::{Resource, ResourceType};
use serde_json::json;

use super::ec2::{merge, name_tag, network_acl, security_group, tags};
use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, e, list, ts};

pub(crate) struct Vpcs;

/// Drains an EC2 paginator into one list.
macro_rules! all {
    ($req:expr, $op:literal, $field:ident) => {{
        let mut items = Vec::new();
        let mut pages = $req.into_paginator().send();
        while let Some(page) = pages.next().await {
            items.extend(page.op($op)?.$field().iter().cloned());
        }
        items
    }};
}

#[async_trait]
impl Collector for Vpcs {
    fn resource_type(&self) -> &'static str {
        ResourceType::EC2_VPC
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "ec2", prefix: "vpc/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeVpcs",
            "ec2:DescribeFlowLogs",
            "ec2:DescribeNetworkAcls",
            "ec2:DescribeRouteTables",
            "ec2:DescribeSecurityGroups",
        ]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let ec2 = scope.clients().ec2();
        let vpcs = all!(ec2.describe_vpcs(), "ec2:DescribeVpcs", vpcs);
        let flow_logs = all!(ec2.describe_flow_logs(), "ec2:DescribeFlowLogs", flow_logs);
        let acls = all!(ec2.describe_network_acls(), "ec2:DescribeNetworkAcls", network_acls);
        let routes = all!(ec2.describe_route_tables(), "ec2:DescribeRouteTables", route_tables);
        let groups =
            all!(ec2.describe_security_groups(), "ec2:DescribeSecurityGroups", security_groups);

        let mut out = Vec::new();
        for v in &vpcs {
            let Some(id) = v.vpc_id() else { continue };
            let in_vpc = |vpc: Option<&str>| vpc == Some(id);
            let arn = scope.arn("ec2", &format!("vpc/{id}"));
            let mut r =
                Resource::new(&arn, ResourceType::EC2_VPC, scope.account_id(), scope.region());
            r.arn = Some(arn);
            r.id = Some(id.to_owned());
            r.name = name_tag(v.tags());
            r.tags = tags(v.tags());
            let my_groups: Vec<_> = groups.iter().filter(|g| in_vpc(g.vpc_id())).collect();
            let my_acls: Vec<_> = acls.iter().filter(|n| in_vpc(n.vpc_id())).collect();
            merge(
                &mut r,
                json!({
                    "VpcId": id,
                    "CidrBlock": v.cidr_block(),
                    "DhcpOptionsId": v.dhcp_options_id(),
                    "InstanceTenancy": e(v.instance_tenancy()),
                    "IsDefault": v.is_default().unwrap_or(false),
                    "OwnerId": v.owner_id(),
                    "State": e(v.state()),
                    "DefaultSecurityGroupId": my_groups.iter().find(|g| g.group_name() == Some("default")).and_then(|g| g.group_id()),
                    "DefaultNetworkAclId": my_acls.iter().find(|n| n.is_default() == Some(true)).and_then(|n| n.network_acl_id()),
                    "FlowLogs": flow_logs.iter().filter(|f| f.resource_id() == Some(id)).map(|f| json!({
                        "FlowLogId": f.flow_log_id(),
                        "FlowLogStatus": f.flow_log_status(),
                        "CreationTime": ts(f.creation_time()),
                        "DeliverLogsStatus": f.deliver_logs_status(),
                        "LogDestinationType": e(f.log_destination_type()),
                        "LogDestination": f.log_destination(),
                        "LogGroupName": f.log_group_name(),
                        "TrafficType": e(f.traffic_type()),
                    })).collect::<Vec<_>>(),
                    "NetworkAcls": my_acls.iter().map(|n| network_acl(n)).collect::<Vec<_>>(),
                    "RouteTables": routes.iter().filter(|t| in_vpc(t.vpc_id())).map(|t| json!({
                        "RouteTableId": t.route_table_id(),
                        "Associations": list(t.associations(), |a| json!({
                            "Main": a.main(),
                            "RouteTableAssociationId": a.route_table_association_id(),
                            "SubnetId": a.subnet_id(),
                            "GatewayId": a.gateway_id(),
                        })),
                        "Routes": list(t.routes(), |x| json!({
                            "DestinationCidrBlock": x.destination_cidr_block(),
                            "DestinationIpv6CidrBlock": x.destination_ipv6_cidr_block(),
                            "DestinationPrefixListId": x.destination_prefix_list_id(),
                            "GatewayId": x.gateway_id(),
                            "InstanceId": x.instance_id(),
                            "NatGatewayId": x.nat_gateway_id(),
                            "NetworkInterfaceId": x.network_interface_id(),
                            "TransitGatewayId": x.transit_gateway_id(),
                            "VpcPeeringConnectionId": x.vpc_peering_connection_id(),
                            "State": e(x.state()),
                        })),
                    })).collect::<Vec<_>>(),
                    "SecurityGroups": my_groups.iter().map(|g| security_group(g)).collect::<Vec<_>>(),
                }),
            );
            out.push(r);
        }
        Ok(Collected { resources: out, ..Default::default() })
    }
}
