//! Shared set-up for the emulator tests: a seeded moto, an executor over a SQLite store,
//! and the scenario every remediation must pass.
#![allow(dead_code)]

use std::sync::Arc;

use caracal_aws::{Aws, Clients, Purpose, Session};
use caracal_core::AuditOutcome;
use caracal_remediate::{Executor, Plan, Report, Request};
use caracal_store::{AuditFilter, SqliteStore, Store};
use caracal_testkit::{Emulator, Manifest};
use serde_json::{Map, Value};

pub const ACCOUNT: &str = caracal_testkit::ACCOUNT_ID;
pub const REGION: &str = caracal_testkit::REGION;

/// A seeded emulator and an executor acting on it.
pub struct Harness {
    pub emulator: Emulator,
    pub aws: Aws,
    pub session: Session,
    pub manifest: Manifest,
    pub store: Arc<dyn Store>,
    pub exec: Executor,
    pub _dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    pub async fn start_with(env: &[(&str, &str)]) -> Self {
        let emulator = Emulator::start_with(env).expect("emulator starts");
        let aws = emulator.aws().await.expect("aws config");
        let session = aws.session(None, Purpose::Remediate).await.expect("session");
        let manifest = caracal_testkit::seed::seed(&session, 1).await.expect("seed");
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("caracal.db")).await.expect("store"));
        let exec = Executor::new(aws.clone(), vec![], store.clone());
        Self { emulator, aws, session, manifest, store, exec, _dir: dir }
    }

    pub fn clients(&self) -> Clients {
        self.session.home()
    }

    pub fn request(
        &self,
        resource_id: &str,
        remediation_id: &str,
        params: &[(&str, Value)],
    ) -> Request {
        request(resource_id, remediation_id, params)
    }

    /// The newest audit record of this resource and remediation.
    pub async fn last_audit(
        &self,
        resource_id: &str,
        remediation_id: &str,
    ) -> caracal_core::AuditRecord {
        let filter = AuditFilter {
            resource_id: Some(resource_id.into()),
            remediation_id: Some(remediation_id.into()),
            limit: 1,
        };
        let mut records = self.store.audit().list(&filter).await.expect("audit list");
        assert!(!records.is_empty(), "no audit record for {remediation_id} on {resource_id}");
        records.remove(0)
    }

    /// Every remediation's contract: plan (checked by `check_plan`), apply → fixed,
    /// audit records for both, then a second apply is an "already compliant" no-op.
    pub async fn fix(
        &self,
        resource_id: &str,
        remediation_id: &str,
        params: &[(&str, Value)],
        check_plan: impl FnOnce(&Plan),
    ) -> Report {
        let req = self.request(resource_id, remediation_id, params);
        let plan =
            self.exec.plan(&req).await.unwrap_or_else(|e| panic!("{remediation_id}: plan: {e}"));
        assert!(!plan.is_noop(), "{remediation_id}: the seeded resource should fail");
        assert!(!plan.changes.is_empty(), "{remediation_id}: plan shows no field change");
        check_plan(&plan);
        assert_eq!(
            self.last_audit(resource_id, remediation_id).await.outcome,
            AuditOutcome::Planned
        );

        let report = self
            .exec
            .apply(&req, &plan)
            .await
            .unwrap_or_else(|e| panic!("{remediation_id}: apply: {e}"));
        assert_eq!(
            report.outcome,
            AuditOutcome::Fixed,
            "{remediation_id}: after = {}",
            report.after
        );
        let record = self.last_audit(resource_id, remediation_id).await;
        assert_eq!(record.outcome, AuditOutcome::Fixed);
        assert_eq!(record.id, report.audit_id);
        assert_eq!(record.plan["calls"], serde_json::to_value(&plan.calls).unwrap());
        assert_eq!(record.before, plan.before);
        assert_ne!(record.after, record.before);

        // Idempotent: applying the same plan again, and planning afresh, do nothing.
        let again = self.exec.apply(&req, &plan).await.expect("second apply");
        assert_eq!(again.outcome, AuditOutcome::AlreadyCompliant, "{remediation_id}");
        let replan = self.exec.plan(&req).await.expect("re-plan");
        assert!(replan.is_noop(), "{remediation_id}: still plans {:?}", replan.calls);
        let rerun = self.exec.run(&req).await.expect("run on a compliant resource");
        assert_eq!(rerun.outcome, AuditOutcome::AlreadyCompliant);
        report
    }
}

pub fn request(resource_id: &str, remediation_id: &str, params: &[(&str, Value)]) -> Request {
    let parameters: Map<String, Value> =
        params.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    Request {
        actor: "test".into(),
        resource_id: resource_id.into(),
        remediation_id: remediation_id.into(),
        parameters,
    }
}

/// The plan's call actions, in order.
pub fn actions(plan: &Plan) -> Vec<&str> {
    plan.calls.iter().map(|c| c.action.as_str()).collect()
}

pub fn bucket_arn(name: &str) -> String {
    format!("arn:aws:s3:::{name}")
}

pub fn ec2_arn(kind: &str, id: &str) -> String {
    format!("arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/{id}")
}
