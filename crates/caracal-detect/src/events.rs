//! Detection's internal events (see `caracal-telemetry`): each logs and counts, with
//! closed-set labels (detection ids from the pack, alert kinds, severities, destination
//! ids from the configuration, outcomes).

use caracal_core::{AlertKind, Severity};
use caracal_telemetry::{Counter, Counters, InternalEvent};
use tracing::{debug, info, warn};

/// Events the rules ran on.
pub static RULE_EVENTS: Counter =
    Counter { name: "rule_events", help: "Events the rules ran on", labels: &[] };

/// Rule matches, by rule and kind.
pub static RULE_MATCHES: Counter = Counter {
    name: "rule_matches",
    help: "Rule matches, by rule and kind (rule, signal, rule_error)",
    labels: &["rule_id", "kind"],
};

/// `rule()` raised or timed out, by rule.
pub static RULE_ERRORS: Counter = Counter {
    name: "rule_errors",
    help: "Rule functions that raised or timed out, by rule",
    labels: &["rule_id"],
};

/// Alerts opened, by kind and severity.
pub static ALERTS_OPENED: Counter = Counter {
    name: "alerts_opened",
    help: "Alerts opened, by kind and severity",
    labels: &["kind", "severity"],
};

/// Alert deliveries, by destination and outcome.
pub static ALERT_DELIVERIES: Counter = Counter {
    name: "alert_deliveries",
    help: "Alert deliveries, by destination and outcome (delivered, failed)",
    labels: &["destination", "outcome"],
};

/// The rules ran on a batch of events.
pub(crate) struct BatchEvaluated {
    pub events: u64,
    pub outcomes: u64,
}

impl InternalEvent for BatchEvaluated {
    fn log(&self) {
        debug!(events = self.events, outcomes = self.outcomes, "Rules ran on a batch.");
    }

    fn count(&self, counters: &Counters) {
        counters.add(&RULE_EVENTS, &[], self.events);
    }
}

/// One rule's matches of one kind in a batch, counted into their alert window.
pub(crate) struct MatchesCounted<'a> {
    pub rule_id: &'a str,
    pub kind: AlertKind,
    pub count: u64,
}

impl InternalEvent for MatchesCounted<'_> {
    fn log(&self) {
        debug!(
            rule = self.rule_id,
            kind = self.kind.as_str(),
            count = self.count,
            "Matches counted."
        );
    }

    fn count(&self, counters: &Counters) {
        counters.add(&RULE_MATCHES, &[self.rule_id, self.kind.as_str()], self.count);
    }
}

/// `rule()` raised (or timed out) on one event.
pub(crate) struct RuleRaised<'a> {
    pub rule_id: &'a str,
    pub error: &'a str,
}

impl InternalEvent for RuleRaised<'_> {
    fn log(&self) {
        warn!(rule = self.rule_id, error = self.error, "Rule raised.");
    }

    fn count(&self, counters: &Counters) {
        counters.add(&RULE_ERRORS, &[self.rule_id], 1);
    }

    // A rule that raises on every event logs every few seconds, not once per event.
    fn log_every(&self) -> std::time::Duration {
        std::time::Duration::from_secs(5)
    }
}

/// An alert was stored for the first time.
pub(crate) struct AlertOpened<'a> {
    pub alert_id: &'a str,
    /// The rule, or the policy of a policy alert.
    pub detection_id: &'a str,
    /// The failing resource of a policy alert.
    pub resource_id: Option<&'a str>,
    pub kind: AlertKind,
    pub severity: Severity,
}

impl InternalEvent for AlertOpened<'_> {
    fn log(&self) {
        info!(
            alert = self.alert_id,
            detection = self.detection_id,
            resource = self.resource_id,
            kind = self.kind.as_str(),
            severity = self.severity.as_str(),
            "Alert opened."
        );
    }

    fn count(&self, counters: &Counters) {
        counters.add(&ALERTS_OPENED, &[self.kind.as_str(), self.severity.as_str()], 1);
    }
}

/// An alert was sent to a destination, or the attempt (with its retries) failed.
pub(crate) struct DeliveryAttempted<'a> {
    pub alert_id: &'a str,
    pub destination: &'a str,
    /// `None` when delivered.
    pub error: Option<&'a str>,
}

impl InternalEvent for DeliveryAttempted<'_> {
    fn log(&self) {
        match self.error {
            None => {
                info!(alert = self.alert_id, destination = self.destination, "Alert delivered.")
            }
            Some(error) => warn!(
                alert = self.alert_id,
                destination = self.destination,
                error,
                "Delivery failed; the alert stays pending."
            ),
        }
    }

    fn count(&self, counters: &Counters) {
        let outcome = if self.error.is_none() { "delivered" } else { "failed" };
        counters.add(&ALERT_DELIVERIES, &[self.destination, outcome], 1);
    }
}
