//! `AWS.EC2.NetworkACL`: DescribeNetworkAcls, one snapshot per ACL.

use async_trait::async_trait;
use caracal_core::{Resource, ResourceType};

use super::ec2::{merge, name_tag, network_acl, tags};
use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::CallResult;

pub(crate) struct NetworkAcls;

#[async_trait]
impl Collector for NetworkAcls {
    fn resource_type(&self) -> &'static str {
        ResourceType::EC2_NETWORK_ACL
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "ec2", prefix: "network-acl/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["ec2:DescribeNetworkAcls"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let ec2 = scope.clients().ec2();
        let mut out = Vec::new();
        let mut pages = ec2.describe_network_acls().into_paginator().send();
        while let Some(page) = pages.next().await {
            for n in page.op("ec2:DescribeNetworkAcls")?.network_acls() {
                let Some(id) = n.network_acl_id() else { continue };
                let arn = scope.arn("ec2", &format!("network-acl/{id}"));
                let mut r = Resource::new(
                    &arn,
                    ResourceType::EC2_NETWORK_ACL,
                    scope.account_id(),
                    scope.region(),
                );
                r.arn = Some(arn);
                r.id = Some(id.to_owned());
                r.name = name_tag(n.tags());
                r.tags = tags(n.tags());
                merge(&mut r, network_acl(n));
                out.push(r);
            }
        }
        Ok(Collected { resources: out, ..Default::default() })
    }
}
