//! What the two web ACL collectors share: WAFv2's ListWebACLs for one scope, then per web
//! ACL GetWebACL and ListTagsForResource, and one ListLoggingConfigurations for the scope.
//!
//! AWS retired WAF Classic (the API behind Panther's `AWS.WAF.WebACL` and
//! `AWS.WAF.Regional.WebACL`) in 2025; caracal keeps the two type names and reads WAFv2:
//! scope `CLOUDFRONT` for the global type, `REGIONAL` for the regional one. Panther's field
//! names are kept where WAFv2 has the value (`WebACLId`, `WebACLArn`, `Name` (the
//! envelope's),
//! `MetricName`, `DefaultAction {Type}`, `Rules[] {Name, Priority, Action {Type}}`);
//! WAFv2 adds `Capacity`, `VisibilityConfig`, `ManagedByFirewallManager` and caracal adds
//! `LoggingConfiguration` (null when the web ACL does not log). A web ACL whose tags
//! cannot be read is kept with empty tags, the failure listed under `caracal:errors`.

use std::collections::HashMap;

use aws_sdk_wafv2::Client;
use aws_sdk_wafv2::types::{
    DefaultAction, LoggingConfiguration, Rule, RuleAction, Scope as WafScope, WebAcl, WebAclSummary,
};
use caracal_core::Resource;
use serde_json::{Value, json};

use super::{Collected, Described, DetailErrors, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, list};

/// The permissions both collectors need.
pub(super) const PERMISSIONS: &[&str] = &[
    "wafv2:ListWebACLs",
    "wafv2:GetWebACL",
    "wafv2:ListTagsForResource",
    "wafv2:ListLoggingConfigurations",
];

/// Lists the web ACLs of `waf_scope` through `waf` (a client in the right region) as
/// resources of `resource_type` in `region` (`global` for CloudFront's).
pub(super) async fn collect(
    scope: &Scope,
    waf: &Client,
    waf_scope: WafScope,
    resource_type: &'static str,
    region: &str,
) -> Result<Collected, CollectError> {
    let mut summaries: Vec<WebAclSummary> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = waf
            .list_web_acls()
            .scope(waf_scope.clone())
            .set_next_marker(marker.take())
            .send()
            .await
            .op("wafv2:ListWebACLs")?;
        summaries.extend(out.web_acls().iter().cloned());
        match out.next_marker() {
            Some(m) if !m.is_empty() && !out.web_acls().is_empty() => marker = Some(m.to_owned()),
            _ => break,
        }
    }
    let logging = logging_configurations(waf, &waf_scope).await?;
    let (logging, waf_scope) = (&logging, &waf_scope);
    let results = scope
        .each(summaries, |s| async move {
            let arn = s.arn().unwrap_or_default().to_owned();
            web_acl(waf, scope, &s, waf_scope, logging, resource_type, region)
                .await
                .map_err(|e| e.on(arn))
        })
        .await;
    // A web ACL deleted between the listing and its description is simply not there.
    Ok(Collected::from_described(results.into_iter().filter_map(Result::transpose)))
}

async fn logging_configurations(
    waf: &Client,
    waf_scope: &WafScope,
) -> Result<HashMap<String, LoggingConfiguration>, CollectError> {
    let mut out = HashMap::new();
    let mut marker: Option<String> = None;
    loop {
        let page = waf
            .list_logging_configurations()
            .scope(waf_scope.clone())
            .set_next_marker(marker.take())
            .send()
            .await
            .op("wafv2:ListLoggingConfigurations")?;
        for c in page.logging_configurations() {
            out.insert(c.resource_arn().to_owned(), c.clone());
        }
        match page.next_marker() {
            Some(m) if !m.is_empty() && !page.logging_configurations().is_empty() => {
                marker = Some(m.to_owned())
            }
            _ => break,
        }
    }
    Ok(out)
}

async fn web_acl(
    waf: &Client,
    scope: &Scope,
    s: &WebAclSummary,
    waf_scope: &WafScope,
    logging: &HashMap<String, LoggingConfiguration>,
    resource_type: &'static str,
    region: &str,
) -> Result<Option<Described>, CollectError> {
    let (Some(name), Some(id), Some(arn)) = (s.name(), s.id(), s.arn()) else {
        return Ok(None);
    };
    let Some(out) = waf
        .get_web_acl()
        .name(name)
        .id(id)
        .scope(waf_scope.clone())
        .send()
        .await
        .absent("wafv2:GetWebACL", &["WAFNonexistentItemException"])?
    else {
        return Ok(None);
    };
    let Some(acl) = out.web_acl() else { return Ok(None) };
    let mut failed = DetailErrors::default();
    let tags = failed.keep(
        waf.list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .op("wafv2:ListTagsForResource")
            .map(|o| {
                o.tag_info_for_resource()
                    .map(|i| {
                        i.tag_list()
                            .iter()
                            .map(|t| (t.key().to_owned(), t.value().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default()
            }),
    );
    let mut r = Resource::new(arn, resource_type, scope.account_id(), region);
    r.arn = Some(arn.to_owned());
    r.id = Some(id.to_owned());
    r.name = Some(name.to_owned());
    r.tags = tags.unwrap_or_default();
    if let Value::Object(map) = attributes(acl, logging.get(arn)) {
        r.attributes.extend(map);
    }
    Ok(Some(failed.finish(r)))
}

fn attributes(acl: &WebAcl, logging: Option<&LoggingConfiguration>) -> Value {
    let visibility = acl.visibility_config();
    json!({
        "WebACLId": acl.id(),
        "WebACLArn": acl.arn(),
        "Description": acl.description(),
        "MetricName": visibility.map(|v| v.metric_name()),
        "DefaultAction": acl.default_action().map(default_action),
        "Rules": list(acl.rules(), rule),
        "Capacity": acl.capacity(),
        "ManagedByFirewallManager": acl.managed_by_firewall_manager(),
        "VisibilityConfig": visibility.map(|v| json!({
            "SampledRequestsEnabled": v.sampled_requests_enabled(),
            "CloudWatchMetricsEnabled": v.cloud_watch_metrics_enabled(),
            "MetricName": v.metric_name(),
        })),
        "LoggingConfiguration": logging.map(|l| json!({
            "LogDestinationConfigs": l.log_destination_configs(),
            "ManagedByFirewallManager": l.managed_by_firewall_manager(),
            "RedactedFields": l.redacted_fields().len(),
        })),
    })
}

fn default_action(a: &DefaultAction) -> Value {
    let kind = if a.block().is_some() { "BLOCK" } else { "ALLOW" };
    json!({"Type": kind})
}

fn rule_action(a: &RuleAction) -> &'static str {
    if a.block().is_some() {
        "BLOCK"
    } else if a.allow().is_some() {
        "ALLOW"
    } else if a.count().is_some() {
        "COUNT"
    } else if a.captcha().is_some() {
        "CAPTCHA"
    } else {
        "CHALLENGE"
    }
}

fn rule(r: &Rule) -> Value {
    let statement = r.statement();
    json!({
        "Name": r.name(),
        "Priority": r.priority(),
        "Action": r.action().map(|a| json!({"Type": rule_action(a)})),
        "OverrideAction": r.override_action().map(|o| json!({
            "Type": if o.count().is_some() { "COUNT" } else { "NONE" },
        })),
        "ManagedRuleGroup": statement.and_then(|s| s.managed_rule_group_statement()).map(|m| json!({
            "VendorName": m.vendor_name(),
            "Name": m.name(),
        })),
        "RuleGroupArn": statement.and_then(|s| s.rule_group_reference_statement()).map(|g| g.arn()),
    })
}
