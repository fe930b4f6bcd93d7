//! Scan orchestration: accounts × regions × types with bounded concurrency, snapshot diff
//! through the store, and the deletion rule.
//!
//! Per (account, region, type) task:
//! - the listing fails → a [`ScanError`]; nothing is written or deleted;
//! - the listing succeeds but some per-resource calls fail → the complete snapshots are
//!   written (their content is whole, so their diff is real), the failed resources keep
//!   their previous snapshot, each failure is a [`ScanError`], and nothing in the scope
//!   is marked deleted;
//! - a resource is kept although a detail call failed (`Collected::partial`) → it is
//!   written with the failure noted on it, the failure is a [`ScanError`], and deletions
//!   still apply (the listing is complete);
//! - everything succeeds → snapshots are written and stored live resources of the scope
//!   that the listing lacked are marked deleted.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use caracal_aws::Session;
use caracal_core::resource::GLOBAL_REGION;
use caracal_core::{ChangeKind, Resource, ScanError, ScanReport, TypeSummary};
use caracal_store::Store;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::sync::Semaphore;
use tracing::{info, warn};

use crate::collectors::{COLLECTORS, Collector, ListingScope, Scope, Shared, collector};
use crate::error::{CollectError, Error};
use crate::events::{CallFailed, DetailCallFailed, ScopeScanned, record};
use crate::inventory::Inventory;
use crate::regions;

/// What to scan. Empty lists mean "everything configured".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanRequest {
    /// Regions to scan. Empty: the configured regions. Global types (IAM, the password
    /// policy, account singletons, `.Meta` aggregates) run once per account whatever
    /// regions are named (#11.8c); `global` alone scans only them. When regions are named,
    /// the `.Meta` aggregates still look at every configured region (plus the named ones),
    /// so a one-region scan does not shrink an account-wide aggregate to that region. To
    /// leave global types out, name the types to scan.
    pub regions: Vec<String>,
    /// Resource types to scan; empty: every collector.
    pub types: Vec<String>,
}

impl ScanRequest {
    /// One region (or `global`) and one type: a targeted rescan of that scope.
    pub fn scope(region: &str, resource_type: &str) -> Self {
        Self { regions: vec![region.to_owned()], types: vec![resource_type.to_owned()] }
    }
}

/// What a scan did: the report, and every snapshot it wrote (for policy evaluation).
#[derive(Debug, Clone, Default)]
pub struct ScanOutcome {
    /// Counts, request total and errors.
    pub report: ScanReport,
    /// Snapshots written by this scan, live ones only.
    pub resources: Vec<Resource>,
}

/// Receives progress; the CLI draws a bar with it. Every method defaults to doing nothing.
pub trait Progress: Send + Sync {
    /// The scan has `tasks` (account, region, type) tasks.
    fn start(&self, _tasks: u64) {}
    /// One task finished.
    fn task_done(&self, _account_id: &str, _region: &str, _resource_type: &str) {}
}

impl Progress for () {}

/// Runs scans into one store.
#[derive(Clone)]
pub struct Scanner {
    store: Arc<dyn Store>,
    concurrency: usize,
    exclude_types: Vec<String>,
    exclude_regions: Vec<String>,
    accounts: usize,
    inventory: Inventory,
}

struct Task<'a> {
    session: &'a Session,
    collector: &'static dyn Collector,
    region: String,
    /// The regions the task's scope covers (see [`Plan`]).
    scope_regions: Arc<[String]>,
}

/// Which (collector, region) tasks a scan runs in each account, and the regions their
/// scopes cover.
struct Plan {
    /// `(collector, region or global)`.
    tasks: Vec<(&'static dyn Collector, String)>,
    /// The regions scanned: regional tasks run in them, account-wide listings keep and
    /// delete only resources in them.
    regions: Vec<String>,
    /// The regions global collectors' aggregates look at: the configured regions plus the
    /// named ones.
    account_regions: Vec<String>,
}

/// Plans a scan of `named` regions (empty: the `configured` ones). Global collectors run
/// once whatever the regions (#11.8c); account-wide ones once when any region is scanned.
fn plan(collectors: &[&'static dyn Collector], named: &[String], configured: &[String]) -> Plan {
    let mut regions: Vec<String> = Vec::new();
    let wanted = if named.is_empty() { configured } else { named };
    for r in wanted {
        if r != GLOBAL_REGION && !regions.contains(r) {
            regions.push(r.clone());
        }
    }
    let mut account_regions = configured.to_vec();
    for r in &regions {
        if !account_regions.contains(r) {
            account_regions.push(r.clone());
        }
    }
    let mut tasks = Vec::new();
    for &c in collectors {
        match c.listing_scope() {
            ListingScope::Regional => tasks.extend(regions.iter().map(|r| (c, r.clone()))),
            ListingScope::Global => tasks.push((c, GLOBAL_REGION.to_owned())),
            ListingScope::AccountWide if !regions.is_empty() => {
                tasks.push((c, GLOBAL_REGION.to_owned()))
            }
            ListingScope::AccountWide => {}
        }
    }
    Plan { tasks, regions, account_regions }
}

#[derive(Default)]
struct TaskResult {
    summary: TypeSummary,
    errors: Vec<ScanError>,
    resources: Vec<Resource>,
}

impl Scanner {
    /// A scanner writing to `store`, with at most `concurrency` tasks and per-resource
    /// calls in flight (`[scan] concurrency`).
    pub fn new(store: Arc<dyn Store>, concurrency: usize) -> Self {
        Self {
            store,
            concurrency: concurrency.max(1),
            exclude_types: Vec::new(),
            exclude_regions: Vec::new(),
            accounts: 1,
            inventory: Inventory::default(),
        }
    }

    /// Reads resource details from `inventory` (`[scan] source`; AWS Config where the
    /// recorder records a type, by default).
    pub fn reading_from(mut self, inventory: Inventory) -> Self {
        self.inventory = inventory;
        self
    }

    /// Scans up to `n` accounts at once (`[organization] concurrency`; default one at a
    /// time), each with the scanner's concurrency; the limit on per-resource calls in
    /// flight stays shared by the whole scan.
    pub fn accounts_at_once(mut self, n: usize) -> Self {
        self.accounts = n.max(1);
        self
    }

    /// Never scans these types (`[scan] exclude_types`) or regions (`[scan]
    /// exclude_regions`), whatever a request names. An excluded type caracal does not know
    /// is an error.
    pub fn excluding(mut self, types: &[String], regions: &[String]) -> Result<Self, Error> {
        if let Some(t) = types.iter().find(|t| collector(t).is_none()) {
            return Err(Error::UnknownType(t.clone()));
        }
        self.exclude_types = types.to_vec();
        self.exclude_regions = regions.to_vec();
        Ok(self)
    }

    /// Scans every session's account for `request`.
    pub async fn scan(
        &self,
        sessions: &[Session],
        request: &ScanRequest,
        progress: &dyn Progress,
    ) -> Result<ScanOutcome, Error> {
        let started = Instant::now();
        let observed_at = Utc::now();
        let collectors: Vec<&'static dyn Collector> = select(&request.types)?
            .into_iter()
            .filter(|c| !self.exclude_types.iter().any(|t| t == c.resource_type()))
            .collect();
        let Some(first) = sessions.first() else {
            return Ok(ScanOutcome::default());
        };
        let requests_before = first.aws().requests().get();
        let throttled_before = first.aws().requests().throttled();
        // Regions are asked for (and checked) only when some type looks at them.
        let needed = collectors.iter().any(|c| {
            c.listing_scope() != ListingScope::Global || c.resource_type().ends_with(".Meta")
        });
        let resolved = futures::future::join_all(
            sessions
                .iter()
                .map(|s| regions::resolve(s, &request.regions, &self.exclude_regions, needed)),
        )
        .await;
        let mut tasks = Vec::new();
        let mut blocked_regions = Vec::new();
        let mut scope_errors = Vec::new();
        for (session, account) in sessions.iter().zip(resolved) {
            // Every candidate region blocked or excluded: no regional task at all.
            let named = if account.regions.is_empty() {
                vec![GLOBAL_REGION.to_owned()]
            } else {
                account.regions.clone()
            };
            let plan = plan(&collectors, &named, &account.account);
            let regions: Arc<[String]> = plan.regions.into();
            let account_regions: Arc<[String]> = plan.account_regions.into();
            for (c, region) in &plan.tasks {
                let scope_regions = match c.listing_scope() {
                    ListingScope::Global => Arc::clone(&account_regions),
                    ListingScope::Regional | ListingScope::AccountWide => Arc::clone(&regions),
                };
                tasks.push(Task { session, collector: *c, region: region.clone(), scope_regions });
            }
            for b in &account.blocked {
                warn!(account = %b.account_id, region = %b.region, reason = %b.reason, "Region denied; skipping it.");
            }
            blocked_regions.extend(account.blocked);
            scope_errors.extend(account.error);
        }
        let scope_requests = first.aws().requests().get() - requests_before;
        progress.start(tasks.len() as u64);
        info!(tasks = tasks.len(), accounts = sessions.len(), "Scan started.");

        let limit = Arc::new(Semaphore::new(self.concurrency));
        let shared = Arc::new(Shared::default());
        let mut report = ScanReport {
            started_at: Some(observed_at),
            types: collectors
                .iter()
                .map(|c| (c.resource_type().to_owned(), TypeSummary::default()))
                .collect::<BTreeMap<_, _>>(),
            ..ScanReport::default()
        };
        let mut resources = Vec::new();
        // One stream of tasks per account; at most `accounts` accounts in flight, each
        // with at most `concurrency` tasks (and the shared limit on per-resource calls).
        let mut by_account: Vec<Vec<Task<'_>>> = Vec::new();
        for task in tasks {
            match by_account.last_mut() {
                Some(group) if group[0].session.account_id() == task.session.account_id() => {
                    group.push(task)
                }
                _ => by_account.push(vec![task]),
            }
        }
        let (limit, shared) = (&limit, &shared);
        let mut results = futures::stream::iter(by_account)
            .map(|group| {
                futures::stream::iter(group)
                    .map(move |task| {
                        let scope = Scope::new(
                            task.session,
                            &task.region,
                            task.scope_regions,
                            Arc::clone(limit),
                            self.concurrency,
                        )
                        .sharing(Arc::clone(shared))
                        .reading(self.inventory);
                        async move {
                            let mut result = self.run(task.collector, &scope, observed_at).await;
                            result.summary.requests = scope.requests().get();
                            result.summary.throttled = scope.requests().throttled();
                            result.summary.operations = scope.requests().by_operation();
                            progress.task_done(
                                scope.account_id(),
                                scope.region(),
                                task.collector.resource_type(),
                            );
                            (task.collector.resource_type(), result)
                        }
                    })
                    .buffer_unordered(self.concurrency)
            })
            .flatten_unordered(self.accounts);
        while let Some((resource_type, result)) = results.next().await {
            let summary = report.types.entry(resource_type.to_owned()).or_default();
            add(summary, &result.summary);
            report.errors.extend(result.errors);
            resources.extend(result.resources);
        }
        drop(results);
        report.errors.extend(scope_errors);
        report.blocked_regions = blocked_regions;
        report.scope_requests = scope_requests;
        report.errors.sort_by(|a, b| {
            (&a.resource_type, &a.region, &a.operation).cmp(&(
                &b.resource_type,
                &b.region,
                &b.operation,
            ))
        });
        report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        report.requests = first.aws().requests().get() - requests_before;
        report.throttled = first.aws().requests().throttled() - throttled_before;
        let totals = report.totals();
        info!(
            seen = totals.seen,
            new = totals.new,
            changed = totals.changed,
            deleted = totals.deleted,
            errors = report.errors.len(),
            requests = report.requests,
            duration_ms = report.duration_ms,
            "Scan finished."
        );
        Ok(ScanOutcome { report, resources })
    }

    /// One (account, region, type): collect, write, and decide deletions.
    async fn run(
        &self,
        collector: &'static dyn Collector,
        scope: &Scope,
        observed_at: DateTime<Utc>,
    ) -> TaskResult {
        let resource_type = collector.resource_type();
        let mut out = TaskResult::default();
        let scan_error = |e: CollectError| ScanError {
            account_id: scope.account_id().to_owned(),
            region: scope.region().to_owned(),
            resource_type: resource_type.to_owned(),
            operation: e.operation.to_owned(),
            message: match &e.resource {
                Some(r) => format!("{r}: {}", e.message),
                None => e.message,
            },
        };
        let fail = |out: &mut TaskResult, e: CollectError| {
            let error = scan_error(e);
            record(CallFailed { error: &error }, &mut out.summary);
            out.errors.push(error);
        };
        let collected = match collector.collect(scope).await {
            Ok(c) => c,
            Err(e) => {
                fail(&mut out, e);
                return out;
            }
        };
        let store = self.store.resources();
        let changes = match store.put_batch(&collected.resources, observed_at).await {
            Ok(changes) => changes,
            Err(e) => {
                fail(&mut out, CollectError::message("store:PutBatch", e.to_string()));
                return out;
            }
        };
        let new = changes.iter().filter(|(_, k)| *k == Some(ChangeKind::Created)).count() as u64;
        let changed =
            changes.iter().filter(|(_, k)| *k == Some(ChangeKind::Modified)).count() as u64;
        let complete = collected.errors.is_empty();
        for e in collected.errors {
            fail(&mut out, e);
        }
        // Resources kept with a failed detail call are in the listing: counted, but they
        // do not hold deletions back.
        for e in collected.partial {
            let error = scan_error(e);
            record(DetailCallFailed { error: &error }, &mut out.summary);
            out.errors.push(error);
        }
        let mut deleted = 0;
        if complete {
            let seen: HashSet<&str> =
                collected.resources.iter().map(|r| r.resource_id.as_str()).collect();
            let deletion_regions: Vec<&str> = match collector.listing_scope() {
                ListingScope::AccountWide => scope.regions().iter().map(String::as_str).collect(),
                ListingScope::Regional | ListingScope::Global => vec![scope.region()],
            };
            let mut stale = Vec::new();
            for region in deletion_regions {
                match store.ids_in_scope(scope.account_id(), region, resource_type).await {
                    Ok(ids) => {
                        stale.extend(ids.into_iter().filter(|id| !seen.contains(id.as_str())))
                    }
                    Err(e) => {
                        fail(&mut out, CollectError::message("store:IdsInScope", e.to_string()));
                        stale.clear();
                        break;
                    }
                }
            }
            if !stale.is_empty() {
                match store.mark_deleted(&stale, observed_at).await {
                    Ok(marked) => {
                        deleted = marked.len() as u64;
                        // A deleted resource no longer complies or fails anything: drop its
                        // verdicts so overviews count only live resources.
                        for id in &marked {
                            if let Err(e) = self.store.compliance().delete_for_resource(id).await {
                                fail(
                                    &mut out,
                                    CollectError::message("store:DeleteCompliance", e.to_string()),
                                );
                            }
                        }
                    }
                    Err(e) => {
                        fail(&mut out, CollectError::message("store:MarkDeleted", e.to_string()))
                    }
                }
            }
        }
        let scanned = ScopeScanned {
            account_id: scope.account_id(),
            region: scope.region(),
            resource_type,
            seen: changes.len() as u64,
            new,
            changed,
            deleted,
        };
        record(scanned, &mut out.summary);
        out.resources = collected.resources;
        out
    }
}

fn add(total: &mut TypeSummary, part: &TypeSummary) {
    total.seen += part.seen;
    total.new += part.new;
    total.changed += part.changed;
    total.unchanged += part.unchanged;
    total.deleted += part.deleted;
    total.errors += part.errors;
    total.requests += part.requests;
    total.throttled += part.throttled;
    for (op, n) in &part.operations {
        *total.operations.entry(op.clone()).or_default() += n;
    }
}

/// The collectors for `types` (all when empty), in registry order.
fn select(types: &[String]) -> Result<Vec<&'static dyn Collector>, Error> {
    if types.is_empty() {
        return Ok(COLLECTORS.to_vec());
    }
    for t in types {
        if collector(t).is_none() {
            return Err(Error::UnknownType(t.clone()));
        }
    }
    Ok(COLLECTORS
        .iter()
        .copied()
        .filter(|c| types.iter().any(|t| t == c.resource_type()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(named: &[&str], types: &[&str]) -> Plan {
        let named: Vec<String> = named.iter().map(|r| (*r).to_owned()).collect();
        let types: Vec<String> = types.iter().map(|t| (*t).to_owned()).collect();
        let collectors = select(&types).unwrap_or_default();
        plan(&collectors, &named, &["us-east-1".to_owned(), "eu-west-1".to_owned()])
    }

    fn tasks(plan: &Plan) -> Vec<(&'static str, &str)> {
        plan.tasks.iter().map(|(c, r)| (c.resource_type(), r.as_str())).collect()
    }

    // #11.8c: `--region us-east-1` used to skip IAM and the password policy silently.
    #[test]
    fn global_types_run_once_whatever_regions_are_named() {
        use caracal_core::ResourceType as T;
        let types = [T::IAM_USER, T::PASSWORD_POLICY, T::KMS_KEY, T::S3_BUCKET];
        let plan = planned(&["us-east-1"], &types);
        let mut got = tasks(&plan);
        got.sort();
        assert_eq!(
            got,
            [
                (T::IAM_USER, "global"),
                (T::KMS_KEY, "us-east-1"),
                (T::PASSWORD_POLICY, "global"),
                (T::S3_BUCKET, "global"),
            ]
        );
        assert_eq!(plan.regions, ["us-east-1"]);

        // Nothing named: the configured regions, and the global types once.
        let plan = planned(&[], &types);
        assert_eq!(tasks(&plan).iter().filter(|(_, r)| *r == "global").count(), 3);
        assert_eq!(tasks(&plan).iter().filter(|(t, _)| *t == T::KMS_KEY).count(), 2);

        // `global` alone: only the global types.
        let plan = planned(&["global"], &types);
        assert_eq!(tasks(&plan), [(T::IAM_USER, "global"), (T::PASSWORD_POLICY, "global")]);
    }

    #[test]
    fn aggregates_cover_the_configured_regions_and_the_named_ones() {
        use caracal_core::ResourceType as T;
        let plan = planned(&["ap-south-1", "ap-south-1"], &[T::CONFIG_RECORDER_META]);
        assert_eq!(tasks(&plan), [(T::CONFIG_RECORDER_META, "global")]);
        assert_eq!(plan.regions, ["ap-south-1"]);
        assert_eq!(plan.account_regions, ["us-east-1", "eu-west-1", "ap-south-1"]);
    }

    #[test]
    fn unknown_type_is_an_error_naming_it() {
        let err =
            select(&["AWS.S3.Bukket".into()]).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("AWS.S3.Bukket"), "{err}");
        assert_eq!(select(&[]).map(|c| c.len()).unwrap_or(0), COLLECTORS.len());
        assert_eq!(select(&["AWS.KMS.Key".into()]).map(|c| c.len()).unwrap_or(0), 1);
    }
}
