//! The executor's internal event (see `caracal-telemetry`): one per audited outcome.

use caracal_core::AuditOutcome;
use caracal_telemetry::{Counter, Counters, InternalEvent};
use tracing::{info, warn};

/// Remediation outcomes as audited, by remediation and outcome.
pub static REMEDIATIONS: Counter = Counter {
    name: "remediations",
    help: "Remediation runs as audited, by remediation and outcome (planned, fixed, already_compliant, refused, failed, unknown ...)",
    labels: &["remediation_id", "outcome"],
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
