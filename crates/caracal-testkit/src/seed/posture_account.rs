//! The types added with #14, once per account:
//!
//! | what | made | misconfiguration |
//! | --- | --- | --- |
//! | load balancers (in VPC `10.250.0.0/16`, two subnets) | `caracal-seed-alb-http`, `caracal-seed-alb-https` | HTTP only, no access logs, no deletion protection, invalid headers kept; none (HTTPS with a TLS 1.3 policy) |
//! | GuardDuty detector | enabled | none |
//! | web ACLs | `caracal-seed-cloudfront` (global), `caracal-seed-regional` | allows by default, no rules, no logging; none (blocks by default) |
//! | Access Analyzer analyzer | `caracal-seed-analyzer` | none |
//! | monitoring | log group `/caracal/seed/trail`, one metric filter and alarm (unauthorized API calls) notifying topic `caracal-seed-alarms`, which has an email subscriber | every other CIS monitoring filter is missing |
//!
//! Security Hub stays disabled (its hub resource reports `Enabled: false`).

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, LoadBalancerAttribute,
    ProtocolEnum,
};
use aws_sdk_wafv2::types::{AllowAction, BlockAction, DefaultAction, Scope, VisibilityConfig};
use caracal_aws::Clients;

use super::error::call;
use super::{SeedError, SeededResource};

/// The account's load balancers, detector, web ACLs, analyzer and monitoring.
pub(super) async fn seed(c: &Clients) -> Result<Vec<SeededResource>, SeedError> {
    let (mut out, detector, acls, analyzer, monitoring) =
        tokio::try_join!(load_balancers(c), detector(c), web_acls(c), analyzer(c), monitoring(c))?;
    out.push(detector);
    out.extend(acls);
    out.push(analyzer);
    out.extend(monitoring);
    Ok(out)
}

fn fixed_response() -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(FixedResponseActionConfig::builder().status_code("200").build())
        .build()
}

async fn load_balancers(c: &Clients) -> Result<Vec<SeededResource>, SeedError> {
    let ec2 = c.ec2();
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.250.0.0/16")
        .send()
        .await
        .map_err(call("load balancer VPC"))?
        .vpc
        .and_then(|v| v.vpc_id)
        .unwrap_or_default();
    let mut subnets = Vec::new();
    for (n, zone) in [(1, "a"), (2, "b")] {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.250.{n}.0/24"))
            .availability_zone(format!("{}{zone}", c.region()))
            .send()
            .await
            .map_err(call("load balancer subnet"))?
            .subnet
            .and_then(|s| s.subnet_id)
            .unwrap_or_default();
        subnets.push(subnet);
    }
    let certificate = c
        .acm()
        .request_certificate()
        .domain_name("alb.caracal.test")
        .send()
        .await
        .map_err(call("load balancer certificate"))?
        .certificate_arn
        .unwrap_or_default();
    let elb = c.elbv2();
    let mut out = Vec::new();
    for https in [false, true] {
        let name = format!("caracal-seed-alb-{}", if https { "https" } else { "http" });
        let arn = elb
            .create_load_balancer()
            .name(&name)
            .set_subnets(Some(subnets.clone()))
            .tags(
                aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                    .key("caracal:seed")
                    .value("true")
                    .build(),
            )
            .send()
            .await
            .map_err(call(format!("load balancer {name}")))?
            .load_balancers
            .unwrap_or_default()
            .into_iter()
            .next()
            .and_then(|lb| lb.load_balancer_arn)
            .unwrap_or_default();
        let mut listener =
            elb.create_listener().load_balancer_arn(&arn).default_actions(fixed_response());
        listener = if https {
            listener
                .protocol(ProtocolEnum::Https)
                .port(443)
                .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
                .certificates(Certificate::builder().certificate_arn(&certificate).build())
        } else {
            listener.protocol(ProtocolEnum::Http).port(80)
        };
        listener.send().await.map_err(call(format!("listener of {name}")))?;
        if https {
            let attribute =
                |k: &str, v: &str| LoadBalancerAttribute::builder().key(k).value(v).build();
            elb.modify_load_balancer_attributes()
                .load_balancer_arn(&arn)
                .attributes(attribute("deletion_protection.enabled", "true"))
                .attributes(attribute("routing.http.drop_invalid_header_fields.enabled", "true"))
                .attributes(attribute("access_logs.s3.enabled", "true"))
                .attributes(attribute("access_logs.s3.bucket", "caracal-seed-trail-logs"))
                .send()
                .await
                .map_err(call(format!("attributes of {name}")))?;
        }
        out.push(SeededResource::new("AWS.ELBV2.ApplicationLoadBalancer", &name, &arn, !https));
    }
    Ok(out)
}

async fn detector(c: &Clients) -> Result<SeededResource, SeedError> {
    let id = c
        .guardduty()
        .create_detector()
        .enable(true)
        .send()
        .await
        .map_err(call("GuardDuty detector"))?
        .detector_id
        .unwrap_or_default();
    let arn = format!("arn:aws:guardduty:{}:{}:detector/{id}", c.region(), crate::ACCOUNT_ID);
    Ok(SeededResource::new("AWS.GuardDuty.Detector", &id, &arn, false))
}

async fn web_acls(c: &Clients) -> Result<Vec<SeededResource>, SeedError> {
    let waf = c.wafv2();
    let mut out = Vec::new();
    for (scope, name, kind) in [
        (Scope::Cloudfront, "caracal-seed-cloudfront", "AWS.WAF.WebACL"),
        (Scope::Regional, "caracal-seed-regional", "AWS.WAF.Regional.WebACL"),
    ] {
        let allow = scope == Scope::Cloudfront;
        let default = if allow {
            DefaultAction::builder().allow(AllowAction::builder().build()).build()
        } else {
            DefaultAction::builder().block(BlockAction::builder().build()).build()
        };
        let visibility = VisibilityConfig::builder()
            .sampled_requests_enabled(!allow)
            .cloud_watch_metrics_enabled(!allow)
            .metric_name(name)
            .build()
            .map_err(|e| SeedError::Call {
                what: format!("web ACL {name}"),
                reason: e.to_string(),
            })?;
        let arn = waf
            .create_web_acl()
            .name(name)
            .scope(scope)
            .default_action(default)
            .visibility_config(visibility)
            .send()
            .await
            .map_err(call(format!("web ACL {name}")))?
            .summary
            .and_then(|s| s.arn)
            .unwrap_or_default();
        out.push(SeededResource::new(kind, name, &arn, allow));
    }
    Ok(out)
}

async fn analyzer(c: &Clients) -> Result<SeededResource, SeedError> {
    let name = "caracal-seed-analyzer";
    let arn = c
        .accessanalyzer()
        .create_analyzer()
        .analyzer_name(name)
        .r#type(aws_sdk_accessanalyzer::types::Type::Account)
        .send()
        .await
        .map_err(call(format!("analyzer {name}")))?
        .arn
        .unwrap_or_default();
    Ok(SeededResource::new("AWS.AccessAnalyzer.Analyzer", name, &arn, false))
}

/// The CIS filter pattern for unauthorized API calls.
const UNAUTHORIZED: &str =
    r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#;

async fn monitoring(c: &Clients) -> Result<Vec<SeededResource>, SeedError> {
    let group = "/caracal/seed/trail";
    let logs = c.logs();
    logs.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .map_err(call(format!("log group {group}")))?;
    logs.put_retention_policy()
        .log_group_name(group)
        .retention_in_days(365)
        .send()
        .await
        .map_err(call(format!("retention of {group}")))?;
    let metric = "UnauthorizedAPICalls";
    logs.put_metric_filter()
        .log_group_name(group)
        .filter_name("caracal-seed-unauthorized-api-calls")
        .filter_pattern(UNAUTHORIZED)
        .metric_transformations(
            aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                .metric_name(metric)
                .metric_namespace("CISBenchmark")
                .metric_value("1")
                .build()
                .map_err(|e| SeedError::Call {
                    what: "metric filter".into(),
                    reason: e.to_string(),
                })?,
        )
        .send()
        .await
        .map_err(call("metric filter"))?;
    let sns = c.sns();
    let topic = sns
        .create_topic()
        .name("caracal-seed-alarms")
        .send()
        .await
        .map_err(call("alarm topic"))?
        .topic_arn
        .unwrap_or_default();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("email")
        .endpoint("security@caracal.test")
        .send()
        .await
        .map_err(call("alarm subscription"))?;
    c.cloudwatch()
        .put_metric_alarm()
        .alarm_name("caracal-seed-unauthorized-api-calls")
        .metric_name(metric)
        .namespace("CISBenchmark")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(300)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(
            aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold,
        )
        .alarm_actions(&topic)
        .send()
        .await
        .map_err(call("metric alarm"))?;
    let id = format!("{}:{}:AWS.CloudWatch.MetricFilters", crate::ACCOUNT_ID, c.region());
    Ok(vec![SeededResource::new("AWS.CloudWatch.MetricFilters", "monitoring", &id, true)])
}
