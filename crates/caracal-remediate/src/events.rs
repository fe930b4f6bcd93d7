//! The executor's internal events (see `caracal-telemetry`): one per audited outcome, and
//! one when the audit record itself could not be written.

use caracal_core::AuditOutcome;
use caracal_telemetry::{Counter, Counters, InternalEvent};
use tracing::{error, info, warn};

/// Remediation outcomes as audited, by remediation and outcome.
pub static REMEDIATIONS: Counter = Counter {
    name: "remediations",
    help: "Remediation runs as audited, by remediation and outcome (planned, fixed, already_compliant, refused, failed, unknown ...)",
    labels: &["remediation_id", "outcome"],
};

/// Audit records the store refused: the run's outcome is only in the log line.
pub static REMEDIATION_AUDIT_ERRORS: Counter = Counter {
    name: "remediation_audit_errors",
    help: "Remediation runs whose audit record could not be written, by remediation",
    labels: &["remediation_id"],
};

/// A run ended and its audit record was written.
pub(crate) struct RemediationAudited<'a> {
    pub resource_id: &'a str,
    pub remediation_id: &'a str,
    pub outcome: AuditOutcome,
    pub error: Option<&'a str>,
}

impl InternalEvent for RemediationAudited<'_> {
    fn log(&self) {
        let (resource, remediation) = (self.resource_id, self.remediation_id);
        let outcome = self.outcome.as_str();
        match self.outcome {
            AuditOutcome::Failed | AuditOutcome::NotFixed | AuditOutcome::Unknown => {
                warn!(
                    resource,
                    remediation,
                    outcome,
                    error = self.error,
                    "Remediation did not fix."
                );
            }
            _ => info!(resource, remediation, outcome, error = self.error, "Remediation audited."),
        }
    }

    fn count(&self, counters: &Counters) {
        counters.add(&REMEDIATIONS, &[self.remediation_id, self.outcome.as_str()], 1);
    }
}

/// A run ended but the store refused its audit record; the caller gets the error.
pub(crate) struct AuditNotWritten<'a> {
    pub resource_id: &'a str,
    pub remediation_id: &'a str,
    pub outcome: AuditOutcome,
    pub error: &'a str,
}

impl InternalEvent for AuditNotWritten<'_> {
    fn log(&self) {
        let (resource, remediation) = (self.resource_id, self.remediation_id);
        error!(
            resource,
            remediation,
            outcome = self.outcome.as_str(),
            error = self.error,
            "Remediation ran but its audit record was not written."
        );
    }

    fn count(&self, counters: &Counters) {
        counters.add(&REMEDIATION_AUDIT_ERRORS, &[self.remediation_id], 1);
    }
}
