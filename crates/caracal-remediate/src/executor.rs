//! [`Executor`]: plan → re-check → apply → verify, with one audit record per attempt.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use caracal_aws::{Aws, Clients, Purpose, Session};
use caracal_core::config::AccountConfig;
use caracal_core::{AuditOutcome, AuditRecord, Resource, ResourceType};
use caracal_store::{AuditFilter, Store};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use tracing::{info, warn};

use crate::error::Error;
use crate::events::{AuditNotWritten, RemediationAudited};
use crate::params;
use crate::plan::{ApiCall, Plan, fingerprint};
use crate::remediations::{self, Remediation};
use crate::sdk::aws_err;
use crate::target::Target;

/// The default circuit breaker: resources per bulk run.
pub const DEFAULT_MAX_RESOURCES: usize = 25;

/// One remediation of one resource, as asked for by a person, the API or a policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Who asks: a user name, `api:<principal>` or `auto:<policy id>`.
    pub actor: String,
    /// The resource's `ResourceId`.
    pub resource_id: String,
    /// The remediation id.
    pub remediation_id: String,
    /// Parameters as JSON; missing ones take their defaults.
    pub parameters: Map<String, Value>,
}

/// How an applied remediation ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The audit record written for it.
    pub audit_id: String,
    /// `Fixed`, `NotFixed` or `AlreadyCompliant`.
    pub outcome: AuditOutcome,
    /// The plan that was applied (as approved).
    pub plan: Plan,
    /// The state read by the re-check, right before acting.
    pub before: Value,
    /// The state read by the verification, after acting (the re-check's for a no-op).
    pub after: Value,
    /// The full snapshot from `caracal_scan`'s targeted rescan, now in the store; `None`
    /// for a no-op, when the resource was never scanned, or when the rescan failed (the
    /// fix itself is verified by the direct read in `after`).
    pub snapshot: Option<Resource>,
}

/// The time source for age judgements, replaceable in tests (see [`Executor::with_clock`]).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Plans and applies remediations in the configured accounts, auditing every attempt.
///
/// Sessions use [`Purpose::Remediate`]: the account's `remediation_role_name` when set.
pub struct Executor {
    aws: Aws,
    accounts: Vec<AccountConfig>,
    store: Arc<dyn Store>,
    max_resources: usize,
    clock: Clock,
    sessions: Mutex<HashMap<String, Session>>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("accounts", &self.accounts.len())
            .field("store", &self.store.describe())
            .field("max_resources", &self.max_resources)
            .finish()
    }
}

impl Executor {
    /// An executor acting through `aws` in `accounts` (none: the credentials' own
    /// account), auditing into `store`.
    pub fn new(aws: Aws, accounts: Vec<AccountConfig>, store: Arc<dyn Store>) -> Self {
        Self {
            aws,
            accounts,
            store,
            max_resources: DEFAULT_MAX_RESOURCES,
            clock: Arc::new(Utc::now),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the circuit breaker of [`Executor::run_bulk`].
    pub fn with_max_resources(mut self, max: usize) -> Self {
        self.max_resources = max;
        self
    }

    /// Replaces the clock remediations judge ages by ("unused for 90 days"); tests move
    /// it forward because the emulator cannot age keys. Audit times stay real.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Dry run: reads the resource and returns the calls that would fix it, making none.
    /// Records a `planned` audit record, or the refusal/failure.
    pub async fn plan(&self, req: &Request) -> Result<Plan, Error> {
        match self.make_plan(req).await {
            Ok(plan) => {
                self.audit(
                    req,
                    AuditOutcome::Planned,
                    Some(&plan),
                    None,
                    &plan.before,
                    &Value::Null,
                    None,
                    None,
                )
                .await?;
                Ok(plan)
            }
            Err(err) => Err(self.fail(req, None, None, err, None).await),
        }
    }

    /// Applies an approved plan: re-reads the resource and refuses when it changed since
    /// the plan (or succeeds as a no-op when it already complies), makes the plan's calls,
    /// re-reads to verify, and records the attempt.
    ///
    /// The plan may have travelled through an untrusted client (the HTTP API): its calls
    /// are made only when they equal what the remediation plans now from unchanged state.
    pub async fn apply(&self, req: &Request, approved: &Plan) -> Result<Report, Error> {
        // Boxed: the apply, verify and rescan futures are large for a debug test thread's stack.
        match Box::pin(self.apply_inner(req, approved)).await {
            Ok(report) => Ok(report),
            Err((err, completed, intent)) => {
                Err(self.fail(req, Some(approved), completed, err, intent.as_deref()).await)
            }
        }
    }

    /// Plans and applies in one step, for callers that approve by configuration
    /// (auto-remediation). Only the apply is audited.
    pub async fn run(&self, req: &Request) -> Result<Report, Error> {
        let plan = match self.make_plan(req).await {
            Ok(plan) => plan,
            Err(err) => return Err(self.fail(req, None, None, err, None).await),
        };
        self.apply(req, &plan).await
    }

    /// [`Executor::run`] for many resources, one at a time. Over the circuit breaker the
    /// whole run is refused before any call, and each request gets a `refused` record.
    pub async fn run_bulk(&self, reqs: &[Request]) -> Result<Vec<Result<Report, Error>>, Error> {
        if reqs.len() > self.max_resources {
            let err = Error::TooManyResources { count: reqs.len(), max: self.max_resources };
            warn!(
                count = reqs.len(),
                max = self.max_resources,
                "Circuit breaker refused a bulk run."
            );
            for req in reqs {
                let text = err.to_string();
                self.audit(
                    req,
                    AuditOutcome::Refused,
                    None,
                    None,
                    &Value::Null,
                    &Value::Null,
                    Some(text),
                    None,
                )
                .await?;
            }
            return Err(err);
        }
        let mut out = Vec::with_capacity(reqs.len());
        for req in reqs {
            out.push(self.run(req).await);
        }
        Ok(out)
    }

    /// Records that a circuit breaker stopped `req` before any call: `count` resources
    /// wanted fixing, `max` were allowed. Returns the error to report.
    pub async fn refuse_over_limit(&self, req: &Request, count: usize, max: usize) -> Error {
        self.fail(req, None, None, Error::TooManyResources { count, max }, None).await
    }

    /// Records that an operator did not approve `plan` (declined, or no terminal to ask).
    pub async fn refuse(&self, req: &Request, plan: &Plan, reason: &str) -> Result<Error, Error> {
        let err = Error::NotConfirmed { reason: reason.to_owned() };
        Ok(self.fail(req, Some(plan), None, err, None).await)
    }

    /// Audit records, newest first.
    pub async fn history(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, Error> {
        Ok(self.store.audit().list(filter).await?)
    }

    async fn make_plan(&self, req: &Request) -> Result<Plan, Error> {
        let (remediation, parameters) = resolve(req)?;
        let (target, _, clients) = self.target(remediation, &req.resource_id).await?;
        let state = remediation.check(&clients, &target).await?;
        let planned_at = (self.clock)();
        let planned = remediation.plan(&target, &state, &parameters, planned_at)?;
        Ok(Plan {
            remediation_id: remediation.id().to_owned(),
            target,
            parameters,
            fingerprint: fingerprint(&state),
            calls: planned.calls,
            changes: planned.changes,
            before: state,
            planned_at,
        })
    }

    async fn apply_inner(&self, req: &Request, approved: &Plan) -> Result<Report, Failure> {
        let (remediation, parameters) = resolve(req).map_err(|e| (e, None, None))?;
        if approved.remediation_id != remediation.id()
            || approved.target.resource_id != req.resource_id
            || approved.parameters != parameters
        {
            let err = Error::PlanMismatch {
                planned: format!("{} on {}", approved.remediation_id, approved.target.resource_id),
                requested: format!("{} on {}", remediation.id(), req.resource_id),
            };
            return Err((err, None, None));
        }
        let (target, session, clients) =
            self.target(remediation, &req.resource_id).await.map_err(|e| (e, None, None))?;

        // Re-check: a fresh read, compared with the state the plan was made from.
        let before = remediation.check(&clients, &target).await.map_err(|e| (e, None, None))?;
        let fresh = remediation
            .plan(&target, &before, &parameters, (self.clock)())
            .map_err(|e| (e, None, None))?;
        if fresh.calls.is_empty() {
            let id = self
                .audit(
                    req,
                    AuditOutcome::AlreadyCompliant,
                    Some(approved),
                    Some(0),
                    &before,
                    &before,
                    None,
                    None,
                )
                .await
                .map_err(|e| (e, None, None))?;
            let report =
                report(id, AuditOutcome::AlreadyCompliant, approved, before.clone(), before);
            return Ok(report);
        }
        let current = fingerprint(&before);
        if current != approved.fingerprint || fresh.calls != approved.calls {
            let err = Error::ChangedSincePlan {
                resource_id: target.resource_id.clone(),
                planned: approved.fingerprint.clone(),
                current,
            };
            return Err((err, None, None));
        }

        // Intent before the first call (#11.9): if the process dies while acting, the
        // audit still says a change may have been made.
        let intent = self
            .audit(
                req,
                AuditOutcome::Applying,
                Some(approved),
                Some(0),
                &before,
                &Value::Null,
                None,
                None,
            )
            .await
            .map_err(|e| (e, None, None))?;
        let total = approved.calls.len();
        let (outcome, after, note) =
            match make_calls(remediation, &clients, &target, &approved.calls).await {
                Ok(()) => {
                    let after = remediation
                        .check(&clients, &target)
                        .await
                        .map_err(|e| (e, Some(total), Some(intent.clone())))?;
                    let left = remediation
                        .plan(&target, &after, &parameters, (self.clock)())
                        .map_err(|e| (e, Some(total), Some(intent.clone())))?;
                    let outcome = match left.calls.is_empty() {
                        true => AuditOutcome::Fixed,
                        false => AuditOutcome::NotFixed,
                    };
                    (outcome, after, None)
                }
                // No answer from AWS: whether the change landed is learned by reading the
                // resource again, never by repeating a call that may not be idempotent.
                Err((err, completed)) if response_lost(&err) => {
                    let settled =
                        self.settle(remediation, &clients, &target, &parameters, approved).await;
                    let (outcome, after) = match settled {
                        Ok(found) => found,
                        Err(reread) => (AuditOutcome::Unknown, json_error(&reread)),
                    };
                    if outcome == AuditOutcome::Failed {
                        return Err((err, completed, Some(intent)));
                    }
                    let note = match outcome {
                        AuditOutcome::Unknown => format!("{err}; unknown: re-check the resource"),
                        _ => format!("{err}; the re-read shows the change applied (verified)"),
                    };
                    (outcome, after, Some(note))
                }
                Err((err, completed)) => return Err((err, completed, Some(intent))),
            };
        let id = self
            .audit(req, outcome, Some(approved), Some(total), &before, &after, note, Some(&intent))
            .await
            .map_err(|e| (e, Some(total), Some(intent.clone())))?;
        let mut report = report(id, outcome, approved, before, after);
        if outcome != AuditOutcome::Unknown {
            report.snapshot = Box::pin(self.rescan(&session, &target)).await;
        }
        Ok(report)
    }

    /// After a lost response: reads the resource again and says what is known. Nothing
    /// left to do: `Fixed` (verified); the whole plan still to do: `Failed` (nothing
    /// landed); anything else: `Unknown`.
    async fn settle(
        &self,
        remediation: &dyn Remediation,
        clients: &Clients,
        target: &Target,
        parameters: &Value,
        approved: &Plan,
    ) -> Result<(AuditOutcome, Value), Error> {
        let after = remediation.check(clients, target).await?;
        let left = remediation.plan(target, &after, parameters, (self.clock)())?;
        let outcome = if left.calls.is_empty() {
            AuditOutcome::Fixed
        } else if left.calls == approved.calls {
            AuditOutcome::Failed
        } else {
            AuditOutcome::Unknown
        };
        Ok((outcome, after))
    }

    /// Refreshes the stored snapshot of a scanned resource with the scanner's targeted
    /// rescan. Failure only costs freshness: the next scan catches up.
    async fn rescan(&self, session: &Session, target: &Target) -> Option<Resource> {
        let id = target.resource_id.as_str();
        if !matches!(self.store.resources().get(id).await, Ok(Some(_))) {
            return None;
        }
        match caracal_scan::rescan_resource(session, self.store.as_ref(), id).await {
            Ok(snapshot) => snapshot,
            Err(err) => {
                warn!(resource = id, error = %err, "Rescan after remediation failed; the stored snapshot is stale until the next scan.");
                None
            }
        }
    }

    /// Resolves the target (type check, account, region), its session and clients.
    async fn target(
        &self,
        remediation: &dyn Remediation,
        resource_id: &str,
    ) -> Result<(Target, Session, Clients), Error> {
        let mut target = Target::parse(resource_id)?;
        let meta = remediation.meta();
        if target.resource_type != meta.resource_type {
            return Err(Error::WrongResourceType {
                remediation: meta.id,
                expected: meta.resource_type,
                actual: target.resource_type,
                resource_id: resource_id.to_owned(),
            });
        }
        // A stored snapshot fills what the id lacks (an S3 bucket's account and region).
        let incomplete = target.account_id.is_empty() || target.region.is_empty();
        if incomplete && let Some(snapshot) = self.store.resources().get(resource_id).await? {
            if target.account_id.is_empty() {
                target.account_id = snapshot.account_id;
            }
            if target.region.is_empty() {
                target.region = snapshot.region;
            }
        }
        let session = self.session(&target).await?;
        if target.account_id.is_empty() {
            target.account_id = session.account_id().to_owned();
        }
        if target.region.is_empty() && target.resource_type == ResourceType::S3_BUCKET {
            target.region = bucket_region(&session.home(), &target).await?;
        }
        let clients =
            if target.is_global() { session.home() } else { session.clients(&target.region) };
        Ok((target, session, clients))
    }

    async fn session(&self, target: &Target) -> Result<Session, Error> {
        let account = if target.account_id.is_empty() {
            match self.accounts.as_slice() {
                [] => None,
                [only] => Some(only),
                many => {
                    return Err(Error::AmbiguousAccount {
                        resource_id: target.resource_id.clone(),
                        count: many.len(),
                    });
                }
            }
        } else {
            let found = self.accounts.iter().find(|a| a.id == target.account_id);
            if found.is_none() && !self.accounts.is_empty() {
                return Err(Error::UnknownAccount {
                    account_id: target.account_id.clone(),
                    resource_id: target.resource_id.clone(),
                });
            }
            found
        };
        let key = account.map(|a| a.id.clone()).unwrap_or_default();
        let mut sessions = self.sessions.lock().await;
        if let Some(s) = sessions.get(&key) {
            return check_account(s.clone(), target);
        }
        let session = self.aws.session(account, Purpose::Remediate).await?;
        sessions.insert(key, session.clone());
        check_account(session, target)
    }

    /// Records a failure or refusal and hands the error back.
    async fn fail(
        &self,
        req: &Request,
        plan: Option<&Plan>,
        completed: Option<usize>,
        err: Error,
        intent: Option<&str>,
    ) -> Error {
        let outcome = err.outcome();
        let before = plan.map(|p| p.before.clone()).unwrap_or(Value::Null);
        match self
            .audit(
                req,
                outcome,
                plan,
                completed,
                &before,
                &Value::Null,
                Some(err.to_string()),
                intent,
            )
            .await
        {
            Ok(_) => err,
            // Losing the audit record is worse than the original failure: report both.
            Err(audit) => Error::Store(match audit {
                Error::Store(e) => e,
                other => caracal_store::Error::Task(other.to_string()),
            }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn audit(
        &self,
        req: &Request,
        outcome: AuditOutcome,
        plan: Option<&Plan>,
        completed: Option<usize>,
        before: &Value,
        after: &Value,
        error: Option<String>,
        intent: Option<&str>,
    ) -> Result<String, Error> {
        let at = Utc::now();
        let record = AuditRecord {
            id: audit_id(at),
            at,
            actor: req.actor.clone(),
            resource_id: req.resource_id.clone(),
            remediation_id: req.remediation_id.clone(),
            parameters: plan
                .map(|p| p.parameters.clone())
                .unwrap_or_else(|| Value::Object(req.parameters.clone())),
            plan: plan.map(|p| p.audit_json(completed)).unwrap_or(Value::Null),
            outcome,
            before: before.clone(),
            after: after.clone(),
            error,
            intent: intent.map(str::to_owned),
        };
        if let Err(err) = self.store.audit().append(&record).await {
            caracal_telemetry::emit(AuditNotWritten {
                resource_id: &record.resource_id,
                remediation_id: &record.remediation_id,
                outcome,
                error: &caracal_core::error::chain(&err),
            });
            return Err(err.into());
        }
        caracal_telemetry::emit(RemediationAudited {
            resource_id: &record.resource_id,
            remediation_id: &record.remediation_id,
            outcome,
            error: record.error.as_deref(),
        });
        Ok(record.id)
    }
}

/// A failed apply: the error, the calls completed, and the intent record written.
type Failure = (Error, Option<usize>, Option<String>);

/// Whether AWS never answered the failed call (a transport failure, no service error
/// code): the change may or may not have landed.
fn response_lost(err: &Error) -> bool {
    match err {
        Error::Aws { code, .. } => code.is_none(),
        Error::PartlyApplied { source, .. } => response_lost(source),
        _ => false,
    }
}

/// A failed re-read, for the audit's `after`.
fn json_error(err: &Error) -> Value {
    serde_json::json!({ "error": err.to_string() })
}

/// Makes a plan's calls in order, stopping at the first failure. A failure after some
/// calls succeeded becomes [`Error::PartlyApplied`], so a half-done change is never
/// reported as a plain failure; the count of completed calls goes to the audit record.
async fn make_calls(
    remediation: &dyn Remediation,
    clients: &Clients,
    target: &Target,
    calls: &[ApiCall],
) -> Result<(), (Error, Option<usize>)> {
    for (i, call) in calls.iter().enumerate() {
        info!(resource = %target.resource_id, call = %call.action, "Applying.");
        if let Err(err) = remediation.apply(clients, target, call).await {
            let err = if i == 0 {
                err
            } else {
                Error::PartlyApplied {
                    resource_id: target.resource_id.clone(),
                    failed: i + 1,
                    total: calls.len(),
                    completed: i,
                    source: Box::new(err),
                }
            };
            return Err((err, Some(i)));
        }
    }
    Ok(())
}

fn check_account(session: Session, target: &Target) -> Result<Session, Error> {
    if !target.account_id.is_empty() && session.account_id() != target.account_id {
        return Err(Error::UnknownAccount {
            account_id: target.account_id.clone(),
            resource_id: target.resource_id.clone(),
        });
    }
    Ok(session)
}

/// The remediation and its parameters, type-checked, defaulted and range-checked.
fn resolve(req: &Request) -> Result<(&'static dyn Remediation, Value), Error> {
    let remediation = remediations::find(&req.remediation_id)
        .ok_or_else(|| Error::UnknownRemediation { id: req.remediation_id.clone() })?;
    let meta = remediation.meta();
    let parameters = Value::Object(params::resolve(meta.id, meta.parameters, &req.parameters)?);
    remediation.validate(&parameters)?;
    Ok((remediation, parameters))
}

async fn bucket_region(home: &Clients, target: &Target) -> Result<String, Error> {
    let out = home
        .s3()
        .get_bucket_location()
        .bucket(&target.name)
        .send()
        .await
        .map_err(aws_err("s3:GetBucketLocation", target))?;
    Ok(match out.location_constraint.as_ref().map(|c| c.as_str()) {
        None | Some("") => "us-east-1".to_owned(),
        Some("EU") => "eu-west-1".to_owned(),
        Some(region) => region.to_owned(),
    })
}

fn report(id: String, outcome: AuditOutcome, plan: &Plan, before: Value, after: Value) -> Report {
    Report { audit_id: id, outcome, plan: plan.clone(), before, after, snapshot: None }
}

/// A unique, time-ordered audit id: time, process and a per-process counter.
fn audit_id(at: DateTime<Utc>) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("rem-{}-{}-{n}", at.format("%Y%m%dT%H%M%S%.6fZ"), std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Planned;
    use crate::remediations::{Meta, Risk};
    use async_trait::async_trait;
    use caracal_core::config::AwsConfig;
    use chrono::Utc;

    /// Fails its second call, as when AWS refuses one of several keys.
    struct FailsSecondCall;

    static META: Meta = Meta {
        id: "Test.FailsSecondCall",
        resource_type: "AWS.S3.Bucket",
        description: "test",
        risk: Risk::Low,
        permissions: &["s3:Test"],
        parameters: &[],
    };

    #[async_trait]
    impl Remediation for FailsSecondCall {
        fn meta(&self) -> &'static Meta {
            &META
        }
        fn validate(&self, _: &Value) -> Result<(), Error> {
            Ok(())
        }
        async fn check(&self, _: &Clients, _: &Target) -> Result<Value, Error> {
            Ok(Value::Null)
        }
        fn plan(
            &self,
            _: &Target,
            _: &Value,
            _: &Value,
            _: DateTime<Utc>,
        ) -> Result<Planned, Error> {
            Ok(Planned::default())
        }
        async fn apply(&self, _: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
            if call.params == 2 {
                return Err(Error::Aws {
                    operation: call.action.clone(),
                    resource_id: t.resource_id.clone(),
                    code: Some("AccessDenied".into()),
                    message: "AccessDenied: not allowed".into(),
                });
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_failure_after_completed_calls_is_reported_as_partly_applied() {
        let aws = Aws::builder(&AwsConfig::default())
            .static_credentials("testing", "testing")
            .region("us-east-1")
            .build()
            .await
            .unwrap();
        let account = AccountConfig {
            id: "123456789012".into(),
            role_name: None,
            remediation_role_name: None,
            external_id: None,
        };
        // No roles configured: no network call opens this session.
        let clients = aws.session(Some(&account), Purpose::Remediate).await.unwrap().home();
        let target = Target::parse("arn:aws:s3:::b").unwrap();
        let calls: Vec<ApiCall> =
            (1..=3).map(|n| ApiCall::new("s3:Test", Value::from(n))).collect();

        let (err, completed) =
            make_calls(&FailsSecondCall, &clients, &target, &calls).await.unwrap_err();
        assert_eq!(completed, Some(1));
        assert!(matches!(err, Error::PartlyApplied { failed: 2, total: 3, completed: 1, .. }));
        assert_eq!(err.outcome(), AuditOutcome::Failed);
        let text = err.to_string();
        assert!(text.contains("call 2 of 3 failed after 1 completed call(s)"), "{text}");
        assert!(text.contains("partly changed") && text.contains("AccessDenied"), "{text}");

        let (err, completed) =
            make_calls(&FailsSecondCall, &clients, &target, &calls[1..]).await.unwrap_err();
        assert_eq!(completed, Some(0));
        assert!(matches!(err, Error::Aws { .. }), "a first-call failure changed nothing: {err}");
    }
}
