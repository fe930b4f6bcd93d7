//! `AWS.ELBV2.ApplicationLoadBalancer`: DescribeLoadBalancers (application load balancers
//! only), then per load balancer DescribeListeners and DescribeLoadBalancerAttributes,
//! and DescribeTags for twenty load balancers a call. Attributes keep ELB's names
//! (Panther's): `LoadBalancerArn`, `DNSName`, `Scheme`, `SecurityGroups`,
//! `AvailabilityZones`, `Listeners[] {Port, Protocol, SslPolicy, Certificates,
//! DefaultActions}`, and `Attributes` as a map (`access_logs.s3.enabled` → `"true"`,
//! `deletion_protection.enabled`, `routing.http.drop_invalid_header_fields.enabled`, ...).
//! A load balancer whose listeners or attributes cannot be read is kept without them, the
//! failure listed under `caracal:errors`.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{Listener, LoadBalancer, LoadBalancerTypeEnum};
use caracal_core::Resource;
use serde_json::{Value, json};

use super::{Collected, Collector, Described, DetailErrors, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, e, list, ts};

const TYPE: &str = "AWS.ELBV2.ApplicationLoadBalancer";
/// DescribeTags takes at most twenty ARNs.
const TAG_BATCH: usize = 20;

pub(crate) struct LoadBalancers;

#[async_trait]
impl Collector for LoadBalancers {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "elasticloadbalancing", prefix: "loadbalancer/app/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "elasticloadbalancing:DescribeTags",
        ]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let elb = scope.clients().elbv2();
        let mut lbs = Vec::new();
        let mut pages = elb.describe_load_balancers().into_paginator().send();
        while let Some(page) = pages.next().await {
            lbs.extend(
                page.op("elasticloadbalancing:DescribeLoadBalancers")?
                    .load_balancers()
                    .iter()
                    .filter(|lb| lb.r#type() == Some(&LoadBalancerTypeEnum::Application))
                    .cloned(),
            );
        }
        let arns: Vec<String> =
            lbs.iter().filter_map(|lb| lb.load_balancer_arn().map(str::to_owned)).collect();
        let mut tags: HashMap<String, Result<BTreeMap<String, String>, CollectError>> =
            HashMap::new();
        for batch in arns.chunks(TAG_BATCH) {
            match elb
                .describe_tags()
                .set_resource_arns(Some(batch.to_vec()))
                .send()
                .await
                .op("elasticloadbalancing:DescribeTags")
            {
                Ok(out) => {
                    for d in out.tag_descriptions() {
                        let Some(arn) = d.resource_arn() else { continue };
                        let map = d
                            .tags()
                            .iter()
                            .filter_map(|t| {
                                Some((
                                    t.key()?.to_owned(),
                                    t.value().unwrap_or_default().to_owned(),
                                ))
                            })
                            .collect();
                        tags.insert(arn.to_owned(), Ok(map));
                    }
                }
                Err(err) => {
                    for arn in batch {
                        tags.insert(arn.clone(), Err(err.clone().on(arn)));
                    }
                }
            }
        }
        let (elb, tags) = (&elb, &tags);
        let results = scope
            .each(lbs, |lb| async move {
                Ok::<Described, CollectError>(load_balancer(elb, scope, &lb, tags).await)
            })
            .await;
        Ok(Collected::from_described(results))
    }
}

async fn load_balancer(
    elb: &Client,
    scope: &Scope,
    lb: &LoadBalancer,
    tags: &HashMap<String, Result<BTreeMap<String, String>, CollectError>>,
) -> Described {
    let arn = lb.load_balancer_arn().unwrap_or_default();
    let mut failed = DetailErrors::default();
    let listeners = failed.keep(all_listeners(elb, arn).await.map_err(|e| e.on(arn)));
    let attributes = failed.keep(
        elb.describe_load_balancer_attributes()
            .load_balancer_arn(arn)
            .send()
            .await
            .op("elasticloadbalancing:DescribeLoadBalancerAttributes")
            .map_err(|e| e.on(arn))
            .map(|o| {
                o.attributes()
                    .iter()
                    .filter_map(|a| Some((a.key()?.to_owned(), Value::from(a.value()))))
                    .collect::<serde_json::Map<_, _>>()
            }),
    );
    let tag_map = match tags.get(arn) {
        Some(Ok(map)) => map.clone(),
        Some(Err(err)) => {
            failed.keep::<()>(Err(err.clone()));
            BTreeMap::new()
        }
        None => BTreeMap::new(),
    };
    let mut r = Resource::new(arn, TYPE, scope.account_id(), scope.region());
    r.arn = Some(arn.to_owned());
    r.name = lb.load_balancer_name().map(str::to_owned);
    r.tags = tag_map;
    r.time_created = created(lb.created_time());
    if let Value::Object(map) = describe(lb) {
        r.attributes.extend(map);
    }
    if let Some(listeners) = listeners {
        r = r.with("Listeners", listeners.iter().map(listener).collect::<Vec<_>>());
    }
    if let Some(attributes) = attributes {
        r = r.with("Attributes", Value::Object(attributes));
    }
    failed.finish(r)
}

async fn all_listeners(elb: &Client, arn: &str) -> Result<Vec<Listener>, CollectError> {
    let mut out = Vec::new();
    let mut pages = elb.describe_listeners().load_balancer_arn(arn).into_paginator().send();
    while let Some(page) = pages.next().await {
        out.extend(page.op("elasticloadbalancing:DescribeListeners")?.listeners().iter().cloned());
    }
    Ok(out)
}

fn describe(lb: &LoadBalancer) -> Value {
    json!({
        "LoadBalancerArn": lb.load_balancer_arn(),
        "LoadBalancerName": lb.load_balancer_name(),
        "DNSName": lb.dns_name(),
        "CanonicalHostedZoneId": lb.canonical_hosted_zone_id(),
        "CreatedTime": ts(lb.created_time()),
        "Scheme": e(lb.scheme()),
        "Type": e(lb.r#type()),
        "IpAddressType": e(lb.ip_address_type()),
        "VpcId": lb.vpc_id(),
        "State": lb.state().map(|s| json!({"Code": e(s.code()), "Reason": s.reason()})),
        "SecurityGroups": lb.security_groups(),
        "AvailabilityZones": list(lb.availability_zones(), |z| json!({
            "ZoneName": z.zone_name(),
            "SubnetId": z.subnet_id(),
        })),
    })
}

fn listener(l: &Listener) -> Value {
    json!({
        "ListenerArn": l.listener_arn(),
        "Port": l.port(),
        "Protocol": e(l.protocol()),
        "SslPolicy": l.ssl_policy(),
        "Certificates": list(l.certificates(), |c| json!({
            "CertificateArn": c.certificate_arn(),
            "IsDefault": c.is_default(),
        })),
        "DefaultActions": list(l.default_actions(), |a| json!({
            "Type": e(a.r#type()),
            "TargetGroupArn": a.target_group_arn(),
            "RedirectConfig": a.redirect_config().map(|r| json!({
                "Protocol": r.protocol(),
                "Port": r.port(),
                "StatusCode": e(r.status_code()),
            })),
        })),
    })
}
