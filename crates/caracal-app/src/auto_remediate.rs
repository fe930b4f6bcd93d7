//! Automatic remediation: failing resources whose policy names an `AutoRemediationID`
//! are fixed through the executor (plan, re-check, apply, verify, re-scan, audit), after
//! the policy's `ActionDelaySeconds`, within allow / deny lists by account, resource type
//! and tag, and under a circuit breaker per policy and run (absolute and percent, like
//! Cloud Custodian's `max-resources`): once it trips, that policy's run stops, the rest
//! are audited as refused and an alert is raised.
//!
//! Runs after an evaluation when `[remediation] auto = true`, and by hand through
//! `caracal remediate apply --policy ID --all-failing --yes` ([`run`] with a
//! [`Selection`] of one policy).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use caracal_core::config::RemediationConfig;
use caracal_core::{AuditOutcome, Cause, ComplianceStatus, Finding, Resource};
use caracal_python::pack::DetectionSpec;
use caracal_remediate::Request;
use serde::Serialize;
use serde_json::{Map, Value};
use tracing::{info, warn};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::posture::{Evaluation, PolicySource, PolicySpecs};
use crate::remediation::Actor;

/// Where automatic fixes go instead of running in this process: in the serverless shape,
/// the remediator function's queue. The breaker and the allow / deny lists still apply
/// here; the consumer plans, re-checks, applies, verifies and audits.
pub trait Dispatch: Send + Sync + std::fmt::Debug {
    /// Hands `request` over, to run after `delay` (the policy's `ActionDelaySeconds`).
    /// Err: why it could not be handed over (the attempt is then reported failed).
    fn dispatch<'a>(
        &'a self,
        request: &'a Request,
        delay: Duration,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send + 'a>>;
}

/// What a policy's spec says about fixing it automatically.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoSpec {
    /// `AutoRemediationID`.
    pub remediation_id: String,
    /// `AutoRemediationParameters`.
    pub parameters: Map<String, Value>,
    /// `ActionDelaySeconds`: wait this long before acting (default 0).
    pub delay: Duration,
}

impl AutoSpec {
    /// Reads a policy's spec; `None` when it names no remediation.
    pub fn from_spec(spec: &DetectionSpec) -> Option<Self> {
        let id = spec.raw.get("AutoRemediationID").and_then(Value::as_str)?.trim();
        if id.is_empty() {
            return None;
        }
        let parameters = match spec.raw.get("AutoRemediationParameters") {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        };
        let delay = spec.raw.get("ActionDelaySeconds").and_then(Value::as_u64).unwrap_or(0);
        Some(Self { remediation_id: id.to_owned(), parameters, delay: Duration::from_secs(delay) })
    }
}

/// Which failing resources a run may touch.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Only this policy (`None`: every policy with an `AutoRemediationID`).
    pub policy: Option<String>,
    /// Allow / deny lists and the circuit breaker.
    pub limits: RemediationConfig,
    /// Honour `ActionDelaySeconds` (a person running it by hand already waited).
    pub delay: bool,
    /// Who acts, as audited.
    pub actor: Option<Actor>,
}

impl Selection {
    /// Every policy, with the configured lists and breaker: the automatic run.
    pub fn every_policy(limits: &RemediationConfig) -> Self {
        Self { policy: None, limits: limits.clone(), delay: true, actor: None }
    }
}

/// One attempt on one resource.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// The policy that asked for it.
    pub policy_id: String,
    /// The resource.
    pub resource_id: String,
    /// The remediation.
    pub remediation_id: String,
    /// `fixed`, `not_fixed`, `already_compliant`, `refused` or `failed`.
    pub outcome: AuditOutcome,
    /// The audit record, when it was written.
    pub audit_id: Option<String>,
    /// Why it failed or was refused.
    pub error: Option<String>,
    /// The fresh snapshot after the fix, when the re-scan succeeded.
    #[serde(skip)]
    pub snapshot: Option<Resource>,
}

/// A policy whose run the circuit breaker stopped.
#[derive(Debug, Clone, Serialize)]
pub struct Tripped {
    /// The policy.
    pub policy_id: String,
    /// Failing resources eligible for fixing.
    pub eligible: usize,
    /// How many the breaker allowed.
    pub allowed: usize,
    /// The alert raised about it.
    pub alert_id: Option<String>,
}

/// What one run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AutoReport {
    /// Every attempt, in order (the breaker's refusals included).
    pub attempts: Vec<Attempt>,
    /// Policies whose run the breaker stopped.
    pub tripped: Vec<Tripped>,
    /// Failing resources left alone by the allow / deny lists, as `resource: reason`.
    pub skipped: Vec<String>,
    /// Resources whose fix was handed to a [`Dispatch`] (queued, not yet run).
    pub queued: Vec<String>,
}

impl AutoReport {
    /// The fresh snapshots of the resources fixed, to evaluate again.
    pub fn fixed_snapshots(&self) -> Vec<Resource> {
        self.attempts
            .iter()
            .filter(|a| matches!(a.outcome, AuditOutcome::Fixed | AuditOutcome::NotFixed))
            .filter_map(|a| a.snapshot.clone())
            .collect()
    }

    /// Attempts with this outcome.
    pub fn count(&self, outcome: AuditOutcome) -> usize {
        self.attempts.iter().filter(|a| a.outcome == outcome).count()
    }
}

/// Why the lists keep `resource` out of automatic fixes, if they do.
pub fn excluded(limits: &RemediationConfig, resource: &Resource) -> Option<String> {
    fn tagged<'a>(list: &'a [String], resource: &Resource) -> Option<&'a String> {
        list.iter().find(|entry| match entry.split_once('=') {
            Some((k, v)) => resource.tags.get(k).is_some_and(|have| have == v),
            None => resource.tags.contains_key(entry.as_str()),
        })
    }
    let rtype = resource.resource_type.as_str();
    if limits.deny_accounts.contains(&resource.account_id) {
        return Some(format!("account {} is denied", resource.account_id));
    }
    if !limits.accounts.is_empty() && !limits.accounts.contains(&resource.account_id) {
        return Some(format!("account {} is not allowed", resource.account_id));
    }
    if limits.deny_resource_types.iter().any(|t| t == rtype) {
        return Some(format!("type {rtype} is denied"));
    }
    if !limits.resource_types.is_empty() && !limits.resource_types.iter().any(|t| t == rtype) {
        return Some(format!("type {rtype} is not allowed"));
    }
    if let Some(tag) = tagged(&limits.deny_tags, resource) {
        return Some(format!("tag {tag} denies it"));
    }
    if !limits.allow_tags.is_empty() && tagged(&limits.allow_tags, resource).is_none() {
        return Some("no allowed tag".to_owned());
    }
    None
}

/// How many of a policy's `evaluated` resources one run may fix.
fn allowance(limits: &RemediationConfig, evaluated: usize) -> usize {
    let share = (evaluated as f64 * limits.max_percent / 100.0).floor() as usize;
    limits.max_resources.min(share.max(1))
}

/// Fixes the failing, unsuppressed findings of `evaluation` whose policy names an
/// `AutoRemediationID` (see the module doc). `resources` are the snapshots evaluated.
pub(crate) async fn run(
    ctx: &Context,
    evaluation: &Evaluation,
    resources: &[Resource],
    specs: &PolicySpecs,
    selection: &Selection,
    cause: &Cause,
) -> Result<AutoReport> {
    let by_id: HashMap<&str, &Resource> =
        resources.iter().map(|r| (r.resource_id.as_str(), r)).collect();
    let mut evaluated: HashMap<&str, usize> = HashMap::new();
    let mut failing: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in &evaluation.findings {
        *evaluated.entry(&f.policy_id).or_default() += 1;
        let wanted = selection.policy.as_ref().is_none_or(|p| *p == f.policy_id);
        if wanted && f.status == ComplianceStatus::Fail && !f.suppressed {
            failing.entry(&f.policy_id).or_default().push(f);
        }
    }
    let mut policies: Vec<&str> = failing.keys().copied().collect();
    policies.sort_unstable();
    let mut report = AutoReport::default();
    if policies.iter().all(|p| !specs.auto.contains_key(*p)) {
        return Ok(report);
    }
    let executor = ctx.executor().await?;
    for policy_id in policies {
        let Some(spec) = specs.auto.get(policy_id) else { continue };
        let mut eligible = Vec::new();
        for f in &failing[policy_id] {
            let Some(resource) = by_id.get(f.resource_id.as_str()) else { continue };
            match excluded(&selection.limits, resource) {
                Some(reason) => report.skipped.push(format!("{}: {reason}", f.resource_id)),
                None => eligible.push(*resource),
            }
        }
        if eligible.is_empty() {
            continue;
        }
        let allowed = allowance(&selection.limits, evaluated[policy_id]);
        let dispatch = ctx.remediation_dispatch();
        if selection.delay && !spec.delay.is_zero() && dispatch.is_none() {
            info!(policy = policy_id, delay = ?spec.delay, "Waiting ActionDelaySeconds before fixing.");
            tokio::time::sleep(spec.delay).await;
        }
        let actor = selection.actor.clone().unwrap_or_else(|| Actor::Policy(policy_id.to_owned()));
        for (i, resource) in eligible.iter().enumerate() {
            let request = Request {
                actor: actor.audit_name(),
                resource_id: resource.resource_id.clone(),
                remediation_id: spec.remediation_id.clone(),
                parameters: spec.parameters.clone(),
            };
            let mut attempt = Attempt {
                policy_id: policy_id.to_owned(),
                resource_id: resource.resource_id.clone(),
                remediation_id: spec.remediation_id.clone(),
                outcome: AuditOutcome::Refused,
                audit_id: None,
                error: None,
                snapshot: None,
            };
            if i >= allowed {
                let err = executor.refuse_over_limit(&request, eligible.len(), allowed).await;
                attempt.error = Some(err.to_string());
            } else if let Some(dispatch) = dispatch {
                match dispatch.dispatch(&request, spec.delay).await {
                    Ok(()) => {
                        info!(policy = policy_id, resource = %resource.resource_id, "Automatic remediation queued.");
                        report.queued.push(resource.resource_id.clone());
                        continue;
                    }
                    Err(error) => {
                        warn!(policy = policy_id, resource = %resource.resource_id, %error,
                            "Automatic remediation could not be queued.");
                        attempt.outcome = AuditOutcome::Failed;
                        attempt.error = Some(error);
                    }
                }
            } else {
                match executor.run(&request).await {
                    Ok(done) => {
                        attempt.outcome = done.outcome;
                        attempt.audit_id = Some(done.audit_id);
                        attempt.snapshot = done.snapshot;
                    }
                    Err(err) => {
                        attempt.outcome = err.outcome();
                        attempt.error = Some(err.to_string());
                        warn!(policy = policy_id, resource = %resource.resource_id, error = %err,
                            "Automatic remediation did not fix the resource.");
                    }
                }
            }
            report.attempts.push(attempt);
        }
        if eligible.len() > allowed {
            warn!(
                policy = policy_id,
                eligible = eligible.len(),
                allowed,
                "Auto-remediation circuit breaker tripped; the policy's run stopped."
            );
            let alert_id =
                breaker_alert(ctx, policy_id, specs, eligible.len(), allowed, cause).await?;
            report.tripped.push(Tripped {
                policy_id: policy_id.to_owned(),
                eligible: eligible.len(),
                allowed,
                alert_id: Some(alert_id),
            });
        }
    }
    Ok(report)
}

/// Fixes every stored failing resource of one policy by hand (`caracal remediate apply
/// --policy ID --all-failing --yes`): the policy's `AutoRemediationID` and parameters,
/// the configured allow / deny lists and circuit breaker, `actor` audited, no
/// `ActionDelaySeconds` wait; fixed resources are evaluated again.
pub async fn fix_failing(
    ctx: &Arc<Context>,
    source: &PolicySource,
    policy_id: &str,
    actor: Actor,
) -> Result<(AutoReport, Option<Evaluation>)> {
    let specs = PolicySpecs::load(ctx, source).await?;
    if !specs.meta.contains_key(policy_id) {
        return Err(Error::Invalid(format!("no enabled policy {policy_id} in {source:?}")));
    }
    if !specs.auto.contains_key(policy_id) {
        return Err(Error::Invalid(format!("policy {policy_id} names no AutoRemediationID")));
    }
    let store = ctx.store().await?;
    let findings = store
        .compliance()
        .for_policy(policy_id)
        .await
        .map_err(Error::store(format!("reading the findings of {policy_id}")))?;
    let mut resources = Vec::new();
    for f in findings.iter().filter(|f| f.status == ComplianceStatus::Fail) {
        let found = store
            .resources()
            .get(&f.resource_id)
            .await
            .map_err(Error::store(format!("reading resource {}", f.resource_id)))?;
        resources.extend(found);
    }
    let evaluation = Evaluation { findings, ..Evaluation::default() };
    let selection = Selection {
        policy: Some(policy_id.to_owned()),
        limits: ctx.config().remediation.clone(),
        delay: false,
        actor: Some(actor),
    };
    let report = run(ctx, &evaluation, &resources, &specs, &selection, &Cause::default()).await?;
    let fixed = report.fixed_snapshots();
    let again = match fixed.is_empty() {
        true => None,
        false => Some(crate::posture::evaluate_fixed(ctx, fixed, source, None).await?),
    };
    Ok((report, again))
}

/// Raises the alert of a tripped breaker and tries to deliver it.
async fn breaker_alert(
    ctx: &Context,
    policy_id: &str,
    specs: &PolicySpecs,
    eligible: usize,
    allowed: usize,
    cause: &Cause,
) -> Result<String> {
    let store = ctx.store().await?;
    let router = crate::alerts::router(ctx).await?;
    let meta = specs.meta.get(policy_id);
    let id = caracal_detect::policy_alerts::breaker(
        store.as_ref(),
        &router,
        policy_id,
        meta,
        eligible,
        allowed,
        cause.scan_id.as_deref(),
    )
    .await
    .map_err(Error::detect("raising the circuit breaker alert"))?;
    caracal_detect::deliver_pending(store.as_ref(), &router, &Default::default())
        .await
        .map_err(Error::detect("delivering the circuit breaker alert"))?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(tags: &[(&str, &str)]) -> Resource {
        let mut r = Resource::new("arn:aws:s3:::b", "AWS.S3.Bucket", "123456789012", "us-east-1");
        r.tags = tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        r
    }

    #[test]
    fn lists_keep_denied_accounts_types_and_tags_out() {
        let mut limits = RemediationConfig::default();
        assert_eq!(excluded(&limits, &bucket(&[])), None);
        assert!(excluded(&limits, &bucket(&[("caracal:no-remediate", "")])).is_some());
        limits.deny_tags = vec!["env=prod".into()];
        assert!(excluded(&limits, &bucket(&[("env", "prod")])).is_some());
        assert_eq!(excluded(&limits, &bucket(&[("env", "dev")])), None);
        limits.allow_tags = vec!["autofix".into()];
        assert!(excluded(&limits, &bucket(&[])).is_some());
        assert_eq!(excluded(&limits, &bucket(&[("autofix", "yes")])), None);
        limits.resource_types = vec!["AWS.EC2.Volume".into()];
        assert!(excluded(&limits, &bucket(&[("autofix", "1")])).unwrap().contains("type"));
        limits.resource_types.clear();
        limits.deny_accounts = vec!["123456789012".into()];
        assert!(excluded(&limits, &bucket(&[("autofix", "1")])).unwrap().contains("account"));
    }

    #[test]
    fn the_breaker_takes_the_smaller_of_count_and_percent() {
        let limits =
            RemediationConfig { max_resources: 10, max_percent: 50.0, ..Default::default() };
        assert_eq!(allowance(&limits, 100), 10);
        assert_eq!(allowance(&limits, 8), 4);
        assert_eq!(allowance(&limits, 1), 1);
    }
}
