//! Counted events: each logs and counts together, into the scan report's per-type summary.
//! Labels are closed sets (type, region, operation); error text goes to the log only.

use caracal_core::{ScanError, TypeSummary};
use tracing::{info, warn};

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

impl ScopeScanned<'_> {
    pub(crate) fn emit(self, summary: &mut TypeSummary) {
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

impl CallFailed<'_> {
    pub(crate) fn emit(self, summary: &mut TypeSummary) {
        let e = self.error;
        warn!(
            account = %e.account_id,
            region = %e.region,
            resource_type = %e.resource_type,
            operation = %e.operation,
            error = %e.message,
            "Call failed; nothing in this scope is marked deleted."
        );
        summary.errors += 1;
    }
}

/// A detail call failed on a resource that is kept (noted under `caracal:errors`): counted
/// as an error, but the listing was complete, so deletions still apply.
pub(crate) struct DetailCallFailed<'a> {
    pub error: &'a ScanError,
}

impl DetailCallFailed<'_> {
    pub(crate) fn emit(self, summary: &mut TypeSummary) {
        let e = self.error;
        warn!(
            account = %e.account_id,
            region = %e.region,
            resource_type = %e.resource_type,
            operation = %e.operation,
            error = %e.message,
            "Detail call failed; the resource is kept with the failure noted."
        );
        summary.errors += 1;
    }
}
