//! The application layer's internal events (see `caracal-telemetry`): whole scans, policy
//! verdicts and queue polls, as every adapter (CLI, daemon, API, Lambda) runs them.

use caracal_core::{ComplianceStatus, Finding};
use caracal_telemetry::{Counter, Counters, InternalEvent};
use tracing::{debug, info, warn};

/// Scans, by outcome.
pub static SCANS: Counter =
    Counter { name: "scans", help: "Scans, by outcome (ok, failed)", labels: &["outcome"] };

/// Policy verdicts, by status.
pub static POLICY_VERDICTS: Counter = Counter {
    name: "policy_verdicts",
    help: "Policy verdicts evaluated, by status (pass, fail, error; suppressed ones included)",
    labels: &["status"],
};

/// Queue messages, by queue and outcome.
pub static QUEUE_MESSAGES: Counter = Counter {
    name: "queue_messages",
    help: "Queue messages handled, by queue and outcome (done: processed and deleted or acknowledged; kept: left for retry)",
    labels: &["queue", "outcome"],
};

/// Polls of a queue that failed as a whole, by queue.
pub static QUEUE_POLL_ERRORS: Counter = Counter {
    name: "queue_poll_errors",
    help: "Queue polls that failed as a whole (queue unreachable, lake unwritable), by queue",
    labels: &["queue"],
};

/// Scheduled query runs, by query and outcome.
pub static SCHEDULED_QUERIES: Counter = Counter {
    name: "scheduled_queries",
    help: "Scheduled query runs, by query and outcome (ok, failed)",
    labels: &["query", "outcome"],
};

/// Rows scheduled queries handed to their scheduled rules, by query.
pub static SCHEDULED_QUERY_ROWS: Counter = Counter {
    name: "scheduled_query_rows",
    help: "Rows scheduled queries returned to their scheduled rules, by query",
    labels: &["query"],
};

/// A scheduled query ran (or failed) and its rows went through its rules.
pub(crate) struct ScheduledQueryRan<'a> {
    pub run: &'a crate::scheduled::QueryRun,
}

impl InternalEvent for ScheduledQueryRan<'_> {
    fn log(&self) {
        let run = self.run;
        match &run.error {
            None => info!(
                query = %run.query,
                rows = run.rows,
                matches = run.matches,
                opened = run.opened.len(),
                "Scheduled query ran."
            ),
            Some(error) => warn!(query = %run.query, error, "Scheduled query failed."),
        }
    }

    fn count(&self, counters: &Counters) {
        let run = self.run;
        let outcome = if run.error.is_none() { "ok" } else { "failed" };
        counters.add(&SCHEDULED_QUERIES, &[&run.query, outcome], 1);
        counters.add(&SCHEDULED_QUERY_ROWS, &[&run.query], run.rows as u64);
    }
}

/// A scan (and its evaluation, when asked for) ended.
pub(crate) struct ScanFinished<'a> {
    pub scan_id: Option<&'a str>,
    /// `None` when the scan ran to its end.
    pub error: Option<&'a str>,
}

impl InternalEvent for ScanFinished<'_> {
    fn log(&self) {
        match self.error {
            None => debug!(scan = self.scan_id, "Scan finished."),
            Some(error) => warn!(error, "Scan failed."),
        }
    }

    fn count(&self, counters: &Counters) {
        counters.add(&SCANS, &[if self.error.is_none() { "ok" } else { "failed" }], 1);
    }
}

/// Policies were evaluated on a set of resources.
pub(crate) struct PoliciesEvaluated<'a> {
    pub findings: &'a [Finding],
}

impl InternalEvent for PoliciesEvaluated<'_> {
    fn log(&self) {
        debug!(verdicts = self.findings.len(), "Policies evaluated.");
    }

    fn count(&self, counters: &Counters) {
        let (mut pass, mut fail, mut error) = (0, 0, 0);
        for f in self.findings {
            match f.status {
                ComplianceStatus::Pass => pass += 1,
                ComplianceStatus::Fail => fail += 1,
                ComplianceStatus::Error(_) => error += 1,
            }
        }
        for (status, n) in [("pass", pass), ("fail", fail), ("error", error)] {
            if n > 0 {
                counters.add(&POLICY_VERDICTS, &[status], n);
            }
        }
    }
}

/// Messages of one queue were handled: deleted when done, kept for retry otherwise.
pub(crate) struct MessagesHandled {
    pub queue: &'static str,
    pub done: u64,
    pub kept: u64,
}

impl InternalEvent for MessagesHandled {
    fn log(&self) {
        if self.kept > 0 {
            warn!(
                queue = self.queue,
                done = self.done,
                kept = self.kept,
                "Messages kept for retry."
            );
        } else {
            debug!(queue = self.queue, done = self.done, "Messages handled.");
        }
    }

    fn count(&self, counters: &Counters) {
        counters.add(&QUEUE_MESSAGES, &[self.queue, "done"], self.done);
        if self.kept > 0 {
            counters.add(&QUEUE_MESSAGES, &[self.queue, "kept"], self.kept);
        }
    }
}

/// A poll of a queue failed as a whole: its messages stay on the queue.
pub(crate) struct PollFailed<'a> {
    pub queue: &'static str,
    pub error: &'a str,
}

impl InternalEvent for PollFailed<'_> {
    fn log(&self) {
        warn!(
            queue = self.queue,
            error = self.error,
            "Polling failed; the messages stay on the queue."
        );
    }

    fn count(&self, counters: &Counters) {
        counters.add(&QUEUE_POLL_ERRORS, &[self.queue], 1);
    }

    fn log_every(&self) -> std::time::Duration {
        std::time::Duration::from_secs(30)
    }
}
