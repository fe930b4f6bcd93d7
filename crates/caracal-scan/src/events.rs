//! The scanner's internal events. Each logs and counts (see `caracal-telemetry`), and
//! also tallies into the scan report's per-type summary. Labels are closed sets (type,
//! call kind); error text goes to the log only.

use caracal_core::{ScanError, TypeSummary};
use caracal_telemetry::{Counter, Counters, InternalEvent};
use tracing::{info, warn};

/// Resources scans saw, by type and change.
pub static SCAN_RESOURCES: Counter = Counter {
    name: "scan_resources",
    help: "Resources scans saw, by type and change (seen, new, changed, deleted)",
    labels: &["resource_type", "change"],
};

/// Failed AWS calls of scans, by type and call kind.
pub static SCAN_ERRORS: Counter = Counter {
    name: "scan_errors",
    help: "Failed AWS calls of scans, by type and call (listing: the scope deletes nothing; detail: the resource is kept)",
    labels: &["resource_type", "call"],
};

/// An event that also counts into the scan report's summary of its type.
pub(crate) trait Tally: InternalEvent {
    fn tally(&self, summary: &mut TypeSummary);
}

/// Tallies `event` into `summary`, then emits it.
pub(crate) fn record<E: Tally>(event: E, summary: &mut TypeSummary) {
    event.tally(summary);
    caracal_telemetry::emit(event);
}

/// One (account, region, type) was listed and written.
pub(crate) struct ScopeScanned<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub resource_type: &'a str,
    pub seen: u64,
    pub new: u64,
    pub changed: u64,
    pub deleted: u64,
}

impl InternalEvent for ScopeScanned<'_> {
    fn log(&self) {
        info!(
            account = self.account_id,
            region = self.region,
            resource_type = self.resource_type,
            seen = self.seen,
            new = self.new,
            changed = self.changed,
            deleted = self.deleted,
            "Scanned scope."
        );
    }

    fn count(&self, counters: &Counters) {
        for (change, n) in [
            ("seen", self.seen),
            ("new", self.new),
            ("changed", self.changed),
            ("deleted", self.deleted),
        ] {
            counters.add(&SCAN_RESOURCES, &[self.resource_type, change], n);
        }
    }
}

impl Tally for ScopeScanned<'_> {
    fn tally(&self, summary: &mut TypeSummary) {
        summary.seen += self.seen;
        summary.new += self.new;
        summary.changed += self.changed;
        summary.unchanged += self.seen - self.new - self.changed;
        summary.deleted += self.deleted;
    }
}

/// A call failed: the scope keeps its previous snapshots and deletes nothing.
pub(crate) struct CallFailed<'a> {
    pub error: &'a ScanError,
}

impl InternalEvent for CallFailed<'_> {
    fn log(&self) {
        let e = self.error;
        warn!(
            account = %e.account_id,
            region = %e.region,
            resource_type = %e.resource_type,
            operation = %e.operation,
            error = %e.message,
            "Call failed; nothing in this scope is marked deleted."
        );
    }

    fn count(&self, counters: &Counters) {
        counters.add(&SCAN_ERRORS, &[&self.error.resource_type, "listing"], 1);
    }
}

impl Tally for CallFailed<'_> {
    fn tally(&self, summary: &mut TypeSummary) {
        summary.errors += 1;
    }
}

/// A detail call failed on a resource that is kept (noted under `caracal:errors`): counted
/// as an error, but the listing was complete, so deletions still apply.
pub(crate) struct DetailCallFailed<'a> {
    pub error: &'a ScanError,
}

impl InternalEvent for DetailCallFailed<'_> {
    fn log(&self) {
        let e = self.error;
        warn!(
            account = %e.account_id,
            region = %e.region,
            resource_type = %e.resource_type,
            operation = %e.operation,
            error = %e.message,
            "Detail call failed; the resource is kept with the failure noted."
        );
    }

    fn count(&self, counters: &Counters) {
        counters.add(&SCAN_ERRORS, &[&self.error.resource_type, "detail"], 1);
    }
}

impl Tally for DetailCallFailed<'_> {
    fn tally(&self, summary: &mut TypeSummary) {
        summary.errors += 1;
    }
}
