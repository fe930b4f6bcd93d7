//! Answers that several collectors need, fetched once per scan and account (and region):
//! IAM's authorization details, credential report and virtual MFA devices (users, roles,
//! groups, policies and the root user), and the account's EBS snapshots with their
//! create-volume permissions (snapshots and volumes), and each region's GuardDuty detectors
//! (the detector collector and its `.Meta`), and each region's AWS Config recorders (the
//! recorder collector, and the inventory check of every collector that reads Config).
//!
//! The first collector to ask makes the calls, so their requests count under its type; a
//! failed fetch is not kept, the next collector asking tries again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_ec2::types::{CreateVolumePermission, Snapshot, SnapshotAttributeName};
use aws_sdk_iam::types::EntityType;
use serde_json::Value;
use tokio::sync::OnceCell;

use super::Scope;
use super::config_recorder::describe as describe_recorders;
use super::guardduty_detector::{Detector, fetch as fetch_detectors};
use super::iam::{AuthDetails, credential_report, virtual_mfa};
use crate::error::CollectError;
use crate::sdk::CallResult;

/// An account's own snapshot, and its create-volume permissions or why they are unknown.
pub(super) type SnapshotPermissions = (Snapshot, Result<Vec<CreateVolumePermission>, CollectError>);

/// A value made at most once unless making it fails.
type Cell<T> = Arc<OnceCell<Arc<T>>>;

/// One value per (account, region).
struct Cells<T>(Mutex<HashMap<(String, String), Cell<T>>>);

impl<T> Default for Cells<T> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<T> Cells<T> {
    async fn get_or_try_init<F, Fut>(
        &self,
        account: &str,
        region: &str,
        make: F,
    ) -> Result<Arc<T>, CollectError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, CollectError>>,
    {
        let cell = {
            let mut map = match self.0.lock() {
                Ok(map) => map,
                Err(poisoned) => poisoned.into_inner(),
            };
            Arc::clone(map.entry((account.to_owned(), region.to_owned())).or_default())
        };
        cell.get_or_try_init(|| async { make().await.map(Arc::new) }).await.cloned()
    }
}

/// The answers shared by the collectors of one scan.
#[derive(Default)]
pub(crate) struct Shared {
    auth: Cells<AuthDetails>,
    credential_report: Cells<HashMap<String, Value>>,
    virtual_mfa: Cells<HashMap<String, Value>>,
    snapshots: Cells<Vec<SnapshotPermissions>>,
    detectors: Cells<Vec<Detector>>,
    recorders: Cells<Vec<(String, Value)>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared")
    }
}

/// IAM's page size (its maximum): fewer pages than the default 100.
const IAM_PAGE: i32 = 1000;

impl Shared {
    /// Every user, group, role and customer managed policy (GetAccountAuthorizationDetails).
    pub(super) async fn auth_details(
        &self,
        scope: &Scope,
    ) -> Result<Arc<AuthDetails>, CollectError> {
        self.auth
            .get_or_try_init(scope.account_id(), "global", || async {
                let iam = scope.clients().iam();
                AuthDetails::fetch(
                    &iam,
                    &[
                        EntityType::User,
                        EntityType::Group,
                        EntityType::Role,
                        EntityType::LocalManagedPolicy,
                    ],
                    IAM_PAGE,
                )
                .await
            })
            .await
    }

    /// The credential report's rows by user name.
    pub(super) async fn credential_report(
        &self,
        scope: &Scope,
    ) -> Result<Arc<HashMap<String, Value>>, CollectError> {
        self.credential_report
            .get_or_try_init(scope.account_id(), "global", || async {
                credential_report(&scope.clients().iam()).await
            })
            .await
    }

    /// Assigned virtual MFA devices by user ARN.
    pub(super) async fn virtual_mfa(
        &self,
        scope: &Scope,
    ) -> Result<Arc<HashMap<String, Value>>, CollectError> {
        self.virtual_mfa
            .get_or_try_init(scope.account_id(), "global", || async {
                virtual_mfa(&scope.clients().iam()).await
            })
            .await
    }

    /// The account's own snapshots in the scope's region, each with its create-volume
    /// permissions (DescribeSnapshots, then DescribeSnapshotAttribute per snapshot).
    pub(super) async fn snapshots(
        &self,
        scope: &Scope,
    ) -> Result<Arc<Vec<SnapshotPermissions>>, CollectError> {
        self.snapshots
            .get_or_try_init(scope.account_id(), scope.region(), || async {
                let ec2 = scope.clients().ec2();
                let mut snapshots: Vec<Snapshot> = Vec::new();
                let mut pages = ec2.describe_snapshots().owner_ids("self").into_paginator().send();
                while let Some(page) = pages.next().await {
                    snapshots.extend(page.op("ec2:DescribeSnapshots")?.snapshots().iter().cloned());
                }
                let ec2 = &ec2;
                Ok(scope
                    .each(snapshots, |s| async move {
                        let id = s.snapshot_id().unwrap_or_default().to_owned();
                        let permissions = ec2
                            .describe_snapshot_attribute()
                            .snapshot_id(&id)
                            .attribute(SnapshotAttributeName::CreateVolumePermission)
                            .send()
                            .await
                            .op("ec2:DescribeSnapshotAttribute")
                            .map(|p| p.create_volume_permissions().to_vec())
                            .map_err(|e| e.on(&id));
                        (s, permissions)
                    })
                    .await)
            })
            .await
    }

    /// The GuardDuty detectors of `region`, each described (ListDetectors, GetDetector).
    pub(super) async fn detectors(
        &self,
        scope: &Scope,
        region: &str,
    ) -> Result<Arc<Vec<Detector>>, CollectError> {
        self.detectors
            .get_or_try_init(scope.account_id(), region, || async {
                fetch_detectors(&scope.clients_in(region).guardduty()).await
            })
            .await
    }

    /// The AWS Config recorders of `region` (`config_recorder::describe`).
    pub(super) async fn recorders(
        &self,
        scope: &Scope,
        region: &str,
    ) -> Result<Arc<Vec<(String, Value)>>, CollectError> {
        self.recorders
            .get_or_try_init(scope.account_id(), region, || async {
                describe_recorders(&scope.clients_in(region).config()).await
            })
            .await
    }
}
