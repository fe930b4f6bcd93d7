//! `AWS.EC2.SecurityGroup`: DescribeSecurityGroups, one snapshot per group.

use async_trait::async_trait;
use caracal_core::{Resource, ResourceType};

use super::ec2::{merge, security_group, tags};
use super::{Collected, Collector, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::CallResult;

pub(crate) struct SecurityGroups;

#[async_trait]
impl Collector for SecurityGroups {
    fn resource_type(&self) -> &'static str {
        ResourceType::EC2_SECURITY_GROUP
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "ec2", prefix: "security-group/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["ec2:DescribeSecurityGroups"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        Ok(Collected { resources: list(scope, None).await?, ..Default::default() })
    }

    async fn collect_one(
        &self,
        scope: &Scope,
        resource_id: &str,
    ) -> Result<Option<Resource>, CollectError> {
        let id = resource_id.rsplit('/').next().unwrap_or(resource_id);
        Ok(list(scope, Some(id)).await?.pop())
    }
}

async fn list(scope: &Scope, only: Option<&str>) -> Result<Vec<Resource>, CollectError> {
    let ec2 = scope.clients().ec2();
    let mut out = Vec::new();
    let mut req = ec2.describe_security_groups();
    if let Some(id) = only {
        req =
            req.filters(aws_sdk_ec2::types::Filter::builder().name("group-id").values(id).build());
    }
    let mut pages = req.into_paginator().send();
    while let Some(page) = pages.next().await {
        for g in page.op("ec2:DescribeSecurityGroups")?.security_groups() {
            let Some(id) = g.group_id() else { continue };
            let arn = scope.arn("ec2", &format!("security-group/{id}"));
            let mut r = Resource::new(
                &arn,
                ResourceType::EC2_SECURITY_GROUP,
                scope.account_id(),
                scope.region(),
            );
            r.arn = Some(arn);
            r.id = Some(id.to_owned());
            r.name = g.group_name().map(str::to_owned);
            r.tags = tags(g.tags());
            merge(&mut r, security_group(g));
            out.push(r);
        }
    }
    Ok(out)
}
