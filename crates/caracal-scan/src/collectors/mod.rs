//! Every collector, one module per resource type, and the [`COLLECTORS`] registry.
//!
//! A collector lists its type in one [`Scope`] and maps each resource to a snapshot with
//! the field names of `shared/RESOURCES.md`. Absent configuration (no bucket policy, no
//! password policy) is a present null/false field, never an error. A failed listing is an
//! `Err` (nothing is written or deleted); a failed per-resource call skips that resource,
//! whose previous snapshot stays, and lands in [`Collected::errors`].
//!
//! A collector may instead keep a resource whose detail call failed (#11.8b; S3 buckets
//! do): the snapshot holds what was read, the fields of the failed call are left out
//! (absent, unlike a null "not configured"), and the failures are listed on it under
//! [`ERRORS_ATTRIBUTE`] and in [`Collected::partial`].

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use caracal_aws::{Clients, RequestCounter, Session};
use caracal_core::Resource;
use caracal_core::config::ScanSource;
use futures::StreamExt;
use tokio::sync::Semaphore;
use tracing::warn;

use crate::error::CollectError;
use crate::inventory::{self, Inventory, Item};
pub use crate::resource_id::IdShape;
pub(crate) use shared::Shared;

mod accessanalyzer_analyzer;
mod acm_certificate;
mod cloudformation_stack;
mod cloudtrail;
mod cloudtrail_meta;
mod cloudwatch_log_group;
mod cloudwatch_metric_filters;
mod config_recorder;
mod config_recorder_meta;
mod dynamodb_table;
mod ec2;
mod ec2_ami;
mod ec2_instance;
mod ec2_network_acl;
mod ec2_region_settings;
mod ec2_security_group;
mod ec2_snapshot;
mod ec2_volume;
mod ec2_vpc;
mod ecs_cluster;
mod eks_cluster;
mod elbv2_load_balancer;
mod guardduty_detector;
mod guardduty_detector_meta;
mod iam;
mod iam_group;
mod iam_policy;
mod iam_role;
mod iam_root_user;
mod iam_user;
mod kms_key;
mod lambda_function;
mod password_policy;
mod rds_instance;
mod rds_snapshot;
mod redshift_cluster;
mod s3_account_settings;
mod s3_bucket;
mod secretsmanager_secret;
mod securityhub_hub;
mod shared;
mod sns_topic;
mod sqs_queue;
mod waf;
mod waf_regional_web_acl;
mod waf_web_acl;

/// Every collector, sorted by resource type.
pub static COLLECTORS: &[&dyn Collector] = &[
    &acm_certificate::Certificates,
    &accessanalyzer_analyzer::Analyzers,
    &cloudformation_stack::Stacks,
    &cloudtrail::Trails,
    &cloudtrail_meta::TrailMeta,
    &cloudwatch_log_group::LogGroups,
    &cloudwatch_metric_filters::MetricFilters,
    &config_recorder::Recorders,
    &config_recorder_meta::RecorderMeta,
    &dynamodb_table::Tables,
    &ec2_ami::Images,
    &ec2_instance::Instances,
    &ec2_network_acl::NetworkAcls,
    &ec2_region_settings::RegionSettings,
    &ec2_security_group::SecurityGroups,
    &ec2_snapshot::Snapshots,
    &ec2_vpc::Vpcs,
    &ec2_volume::Volumes,
    &ecs_cluster::Clusters,
    &eks_cluster::Clusters,
    &elbv2_load_balancer::LoadBalancers,
    &guardduty_detector::Detectors,
    &guardduty_detector_meta::DetectorMeta,
    &iam_group::Groups,
    &iam_policy::Policies,
    &iam_role::Roles,
    &iam_root_user::RootUser,
    &iam_user::Users,
    &kms_key::Keys,
    &lambda_function::Functions,
    &password_policy::PasswordPolicy,
    &rds_instance::Instances,
    &rds_snapshot::Snapshots,
    &redshift_cluster::Clusters,
    &s3_account_settings::AccountSettings,
    &s3_bucket::Buckets,
    &sns_topic::Topics,
    &sqs_queue::Queues,
    &secretsmanager_secret::Secrets,
    &securityhub_hub::Hubs,
    &waf_regional_web_acl::WebAcls,
    &waf_web_acl::WebAcls,
];

/// The collector of a resource type, such as `AWS.S3.Bucket`.
pub fn collector(resource_type: &str) -> Option<&'static dyn Collector> {
    COLLECTORS.iter().copied().find(|c| c.resource_type() == resource_type)
}

/// What one listing covers, which decides where it runs and what it may mark deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingScope {
    /// Once per account and scanned region; deletions within that region.
    Regional,
    /// Once per account, region `global` (IAM, account singletons, `.Meta` aggregates).
    Global,
    /// Once per account, one listing for every region (S3's ListBuckets); resources keep
    /// their own region, only those in scanned regions are kept, and deletions are
    /// decided per scanned region.
    AccountWide,
}

/// Where a collector runs: one account and one region (or `global`), with the scan's
/// shared limit on calls in flight.
#[derive(Debug, Clone)]
pub struct Scope {
    session: Session,
    region: String,
    regions: Arc<[String]>,
    limit: Arc<Semaphore>,
    concurrency: usize,
    requests: RequestCounter,
    shared: Arc<Shared>,
    inventory: Inventory,
}

impl Scope {
    /// A scope in `region` (`global` uses the session's home region for calls);
    /// `regions` are every region the scan covers; `limit` is shared by the whole scan.
    pub fn new(
        session: &Session,
        region: &str,
        regions: Arc<[String]>,
        limit: Arc<Semaphore>,
        concurrency: usize,
    ) -> Self {
        Self {
            session: session.clone(),
            region: region.to_owned(),
            regions,
            limit,
            concurrency: concurrency.max(1),
            requests: session.aws().requests().scoped(),
            shared: Arc::default(),
            inventory: Inventory::default(),
        }
    }

    /// The same scope reading details from `inventory` (`[scan] source`).
    pub(crate) fn reading(self, inventory: Inventory) -> Self {
        Self { inventory, ..self }
    }

    /// The current AWS Config items of `ids` (resource ids of `config_type`) in `region`,
    /// by id, when the scan reads Config there (see [`crate::inventory`]); empty otherwise.
    /// A failed item read is an `Err` for the caller to count (every id is then read
    /// through the API); unreadable recorders only mean "not recorded" here, since the
    /// recorder type reports its own failure.
    pub(crate) async fn config_items(
        &self,
        region: &str,
        config_type: &str,
        ids: &[String],
    ) -> Result<HashMap<String, Item>, CollectError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        // The recorders are read only where they decide (`auto`).
        let recorded = self.inventory.source == ScanSource::Auto
            && match self.shared.recorders(self, region).await {
                Ok(recorders) => inventory::recorded(&recorders, config_type),
                Err(e) => {
                    warn!(region, operation = e.operation, error = %e.message, "AWS Config recorders unreadable; using the API.");
                    false
                }
            };
        if !self.inventory.asks(recorded) {
            return Ok(HashMap::new());
        }
        let config = self.clients_in(region).config();
        // Counted (and logged) by the scan as a detail-call failure.
        inventory::current_items(&config, config_type, ids, self.inventory.max_age).await.map_err(
            |e| e.on(format!("AWS Config items in {region} (read through the API instead)")),
        )
    }

    /// The same scope answering shared questions (IAM details, snapshots) from `shared`,
    /// which every scope of a scan holds, so each is asked once per scan.
    pub(crate) fn sharing(self, shared: Arc<Shared>) -> Self {
        Self { shared, ..self }
    }

    /// Answers several collectors need; see [`Shared`].
    pub(super) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The requests sent by this scope's clients (also counted in the session's total).
    pub fn requests(&self) -> &RequestCounter {
        &self.requests
    }

    /// The account.
    pub fn account_id(&self) -> &str {
        self.session.account_id()
    }

    /// The region scanned, or `global`.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Every region the scan covers (never `global`).
    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    /// Clients for this scope's region (the home region for `global`).
    pub fn clients(&self) -> Clients {
        let clients = if self.region == caracal_core::resource::GLOBAL_REGION {
            self.session.home()
        } else {
            self.session.clients(&self.region)
        };
        clients.with_counter(self.requests.clone())
    }

    /// Clients for another region of the same account.
    pub fn clients_in(&self, region: &str) -> Clients {
        self.session.clients(region).with_counter(self.requests.clone())
    }

    /// An ARN in this scope's account and region.
    pub(crate) fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{}:{}:{resource}", self.region, self.account_id())
    }

    /// Runs `f` on every item, at most the scan's concurrency at once (the limit is shared
    /// by every scope of the scan), and returns the results in input order.
    pub(crate) async fn each<T, O, F, Fut>(&self, items: Vec<T>, f: F) -> Vec<O>
    where
        F: Fn(T) -> Fut,
        Fut: std::future::Future<Output = O>,
    {
        futures::stream::iter(items)
            .map(|item| {
                let limit = Arc::clone(&self.limit);
                let fut = f(item);
                async move {
                    // The semaphore is never closed, so acquiring cannot fail.
                    let _permit = limit.acquire_owned().await.ok();
                    fut.await
                }
            })
            .buffered(self.concurrency)
            .collect()
            .await
    }
}

/// The attribute listing a snapshot's failed detail calls: an array of
/// `{"operation": "s3:GetBucketVersioning", "message": "..."}`, absent when every call
/// succeeded. The fields those calls fill are absent from the snapshot.
pub const ERRORS_ATTRIBUTE: &str = "caracal:errors";

/// The outcome of one listing that succeeded.
#[derive(Debug, Default)]
pub struct Collected {
    /// Snapshots: complete, or kept with their failed detail calls noted.
    pub resources: Vec<Resource>,
    /// Per-resource calls that failed; those resources are left out of `resources`, so
    /// nothing in the scope is marked deleted.
    pub errors: Vec<CollectError>,
    /// Detail calls that failed on resources kept in `resources` (noted on each under
    /// [`ERRORS_ATTRIBUTE`]). They count as scan errors; the listing itself is complete,
    /// so deletions still apply.
    pub partial: Vec<CollectError>,
}

/// One resource's snapshot and the detail calls that failed while reading it.
#[derive(Debug)]
pub(crate) struct Described {
    pub(crate) resource: Resource,
    pub(crate) failed: Vec<CollectError>,
}

/// Gathers a resource's failed detail calls while it is read, with the snapshot fields
/// each failure left unknown.
#[derive(Debug, Default)]
pub(crate) struct DetailErrors(Vec<(CollectError, &'static [&'static str])>);

impl DetailErrors {
    /// The call's value, or `None` with its failure noted.
    pub(crate) fn keep<T>(&mut self, result: Result<T, CollectError>) -> Option<T> {
        self.keep_fields(&[], result)
    }

    /// Like [`DetailErrors::keep`], naming the snapshot `fields` the call fills: when it
    /// fails they are listed as unknown, and a policy that reads one errors instead of
    /// judging a resource on a missing part (#11.8b).
    pub(crate) fn keep_fields<T>(
        &mut self,
        fields: &'static [&'static str],
        result: Result<T, CollectError>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push((e, fields));
                None
            }
        }
    }

    /// The snapshot with its failures listed under [`ERRORS_ATTRIBUTE`]: `operation`,
    /// `message` and, when known, the `fields` left unknown.
    pub(crate) fn finish(self, resource: Resource) -> Described {
        let noted: Vec<serde_json::Value> = self
            .0
            .iter()
            .map(|(e, fields)| {
                let mut note = serde_json::json!({"operation": e.operation, "message": e.message});
                if !fields.is_empty() {
                    note["fields"] = serde_json::json!(fields);
                }
                note
            })
            .collect();
        let failed: Vec<CollectError> = self.0.into_iter().map(|(e, _)| e).collect();
        if failed.is_empty() {
            return Described { resource, failed };
        }
        Described { resource: resource.with(ERRORS_ATTRIBUTE, noted), failed }
    }
}

impl Collected {
    /// Splits per-resource results into snapshots and errors.
    pub fn from_results(results: impl IntoIterator<Item = Result<Resource, CollectError>>) -> Self {
        let mut out = Self::default();
        for r in results {
            match r {
                Ok(resource) => out.resources.push(resource),
                Err(e) => out.errors.push(e),
            }
        }
        out
    }

    /// Like [`Collected::from_results`], keeping resources read in part.
    pub(crate) fn from_described(
        results: impl IntoIterator<Item = Result<Described, CollectError>>,
    ) -> Self {
        let mut out = Self::default();
        for r in results {
            match r {
                Ok(d) => {
                    out.resources.push(d.resource);
                    out.partial.extend(d.failed);
                }
                Err(e) => out.errors.push(e),
            }
        }
        out
    }
}

/// Lists one resource type.
#[async_trait]
pub trait Collector: Send + Sync {
    /// The type id, such as `AWS.S3.Bucket`.
    fn resource_type(&self) -> &'static str;

    /// How this type's `ResourceId` is built, so that an id traces back to its type
    /// ([`place`](crate::place)).
    fn id_shape(&self) -> IdShape;

    /// The IAM actions the collector calls, for the scanner role's policy.
    fn permissions(&self) -> &'static [&'static str];

    /// Where the listing runs; see [`ListingScope`].
    fn listing_scope(&self) -> ListingScope {
        ListingScope::Regional
    }

    /// Lists every resource of the type in `scope`.
    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError>;

    /// Collects one resource by `ResourceId`: `Ok(None)` when a successful lookup shows it
    /// is gone. The default lists the whole scope and picks it out.
    async fn collect_one(
        &self,
        scope: &Scope,
        resource_id: &str,
    ) -> Result<Option<Resource>, CollectError> {
        let collected = self.collect(scope).await?;
        if let Some(r) = collected.resources.into_iter().find(|r| r.resource_id == resource_id) {
            return Ok(Some(r));
        }
        match collected.errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collectors_are_sorted_and_declare_permissions() {
        assert!(
            COLLECTORS.windows(2).all(|w| w[0].resource_type() < w[1].resource_type()),
            "COLLECTORS must be sorted by type, without duplicates"
        );
        for c in COLLECTORS {
            assert!(!c.permissions().is_empty(), "{} declares no permissions", c.resource_type());
            for p in c.permissions() {
                let (service, action) = p.split_once(':').unwrap_or_default();
                assert!(
                    !service.is_empty() && action.starts_with(|c: char| c.is_ascii_uppercase()),
                    "{}: {p:?} is not service:Action",
                    c.resource_type()
                );
            }
        }
    }

    #[test]
    fn type_ids_are_service_and_name() {
        for c in COLLECTORS {
            let t = c.resource_type();
            let parts: Vec<&str> = t.split('.').collect();
            assert!(
                parts.len() >= 2
                    && parts[0] == "AWS"
                    && parts[1..].iter().all(|p| p.starts_with(|c: char| c.is_ascii_uppercase())),
                "{t} is not AWS.<Service>[.<Name>]"
            );
            assert_eq!(collector(t).map(|c| c.resource_type()), Some(t));
        }
    }
}
