//! Scheduled queries and scheduled rules (the public format's `scheduled_query` and
//! `scheduled_rule`): each enabled query that a scheduled rule names runs on its
//! `Schedule` against the lake, and its rows go through those rules with the same alert
//! logic as streaming rules (dedup string and window, threshold, severity, destinations).
//!
//! The SQL engine is the caller's ([`QueryEngine`]): DataFusion lives in `caracal-query`
//! and the binary, so the Lambda functions and this crate do not compile it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use caracal_detect::{Detector, EventMeta, RetryPolicy, RuleSource, Rules};
use caracal_python::pack::Schedule;
use caracal_store::Store;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::watch;
use tracing::warn;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::events::ScheduledQueryRan;

/// Rows handed to the rules per batch.
const BATCH: usize = 1000;

/// Runs SQL against the lake.
#[async_trait]
pub trait QueryEngine: Send + Sync {
    /// The rows of `sql` run as of `at` (the time its time macros such as
    /// `p_occurs_since` count back from), each as a JSON object (column → value); the
    /// error says why the query could not run.
    async fn rows(
        &self,
        sql: &str,
        at: DateTime<Utc>,
    ) -> std::result::Result<Vec<Map<String, Value>>, String>;
}

/// One enabled scheduled query with at least one scheduled rule on its rows.
#[derive(Debug, Clone)]
pub struct ScheduledQuery {
    /// `QueryName`.
    pub name: String,
    /// The SQL as written in the pack.
    pub sql: String,
    /// `TimeoutMinutes`.
    pub timeout: Duration,
    timing: Timing,
}

/// When a query runs: its `Schedule`, the cron expression parsed once.
#[derive(Debug, Clone)]
enum Timing {
    /// `RateMinutes`.
    Rate(u64),
    /// `CronExpression`, as written and parsed.
    Cron(String, Box<cron::Schedule>),
}

impl ScheduledQuery {
    /// The query `name` running `sql` on `schedule`; a cron expression that does not
    /// parse is an error naming it.
    fn new(name: &str, sql: &str, schedule: &Schedule) -> std::result::Result<Self, String> {
        let (timing, timeout_minutes) = match schedule {
            Schedule::Rate { minutes, timeout_minutes } => {
                (Timing::Rate(*minutes), *timeout_minutes)
            }
            Schedule::Cron { expression, timeout_minutes } => {
                let cron = caracal_core::config::parse_schedule(expression)?;
                (Timing::Cron(expression.clone(), Box::new(cron)), *timeout_minutes)
            }
        };
        Ok(Self {
            name: name.to_owned(),
            sql: sql.to_owned(),
            timeout: Duration::from_secs(timeout_minutes.clamp(1, 24 * 60) * 60),
            timing,
        })
    }

    /// The schedule as `caracal scheduled list` shows it.
    pub fn describe(&self) -> String {
        match &self.timing {
            Timing::Rate(minutes) => format!("every {minutes} min"),
            Timing::Cron(expression, _) => format!("cron {expression}"),
        }
    }

    /// The first run strictly after `after`: the cron's next tick (UTC), or the next
    /// multiple of `RateMinutes` since the Unix epoch (so a restart neither delays nor
    /// repeats a run: `RateMinutes: 1440` runs at 00:00 UTC every day).
    pub fn next_run(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.timing {
            Timing::Rate(minutes) => {
                let period = i64::try_from(*minutes).ok()?.checked_mul(60)?.max(60);
                let next = (after.timestamp().div_euclid(period) + 1).checked_mul(period)?;
                DateTime::from_timestamp(next, 0)
            }
            Timing::Cron(_, cron) => cron.after(&after).next(),
        }
    }
}

/// What one run of a query did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueryRun {
    /// `QueryName`.
    pub query: String,
    /// Rows the query returned.
    pub rows: usize,
    /// Rule matches on them (signals and rule errors included).
    pub matches: usize,
    /// Alerts opened by this run.
    pub opened: Vec<String>,
    /// Alerts that existed and took more rows.
    pub updated: Vec<String>,
    /// Why the query or its rules failed; `None` when the run finished.
    pub error: Option<String>,
}

/// The scheduled rules of a pack, compiled, with the queries they name.
pub struct ScheduledRules {
    detector: Arc<Detector>,
    queries: Vec<ScheduledQuery>,
    store: Arc<dyn Store>,
    router: Arc<caracal_detect::Router>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for ScheduledRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScheduledRules")
            .field("detector", &self.detector)
            .field("queries", &self.queries)
            .finish_non_exhaustive()
    }
}

impl ScheduledRules {
    /// Compiles the enabled scheduled rules of `source` and keeps the enabled scheduled
    /// queries that one of them names. A rule naming an unknown query, or a query with an
    /// unusable cron expression, is logged and left out.
    pub async fn open(ctx: &Context, source: &RuleSource) -> Result<Self> {
        let router = Arc::new(crate::alerts::router(ctx).await?);
        let store = ctx.store().await?.clone();
        let rules = crate::logs::compile_rules(source, Rules::compile_scheduled).await?;
        let named: Vec<&str> = rules
            .specs()
            .iter()
            .flat_map(|r| r.scheduled_queries.iter().map(String::as_str))
            .collect();
        let mut queries = Vec::new();
        for spec in rules.queries() {
            let (Some(schedule), true) = (&spec.schedule, spec.enabled) else { continue };
            if !named.contains(&spec.name.as_str()) {
                continue;
            }
            match ScheduledQuery::new(&spec.name, &spec.sql, schedule) {
                Ok(query) => queries.push(query),
                Err(message) => {
                    warn!(query = %spec.name, message, "Scheduled query left out: bad CronExpression.");
                }
            }
        }
        for name in &named {
            if !queries.iter().any(|q| q.name == *name) {
                warn!(
                    query = name,
                    "A scheduled rule names a query that is not an enabled scheduled query."
                );
            }
        }
        let detector = Arc::new(Detector::new(Arc::new(rules), store.clone(), router.clone()));
        detector.attach_store().map_err(Error::detect("attaching the store to the rules"))?;
        Ok(Self { detector, queries, store, router, retry: RetryPolicy::default() })
    }

    /// Shorter backoff between delivery attempts (tests).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The queries that run, in pack order.
    pub fn queries(&self) -> &[ScheduledQuery] {
        &self.queries
    }

    /// Runs `query` once as of `at` through `engine`, its rows through the rules that
    /// name it, and delivers the alerts it opened. A failure is reported in
    /// [`QueryRun::error`] and counted, never raised: the other queries keep their
    /// schedule. Alerts opened before a failure are still reported and delivered.
    pub async fn run(
        &self,
        query: &ScheduledQuery,
        engine: &dyn QueryEngine,
        at: DateTime<Utc>,
    ) -> QueryRun {
        let mut run = QueryRun { query: query.name.clone(), ..QueryRun::default() };
        // Runs are sequential: what the detector counted since the last take is this run's.
        self.detector.take_summary();
        let result = self.run_rows(query, engine, at, &mut run).await;
        let summary = self.detector.take_summary();
        run.opened = summary.opened;
        run.updated = summary.updated;
        let delivered = match run.opened.is_empty() {
            true => Ok(()),
            false => {
                caracal_detect::deliver_pending(self.store.as_ref(), &self.router, &self.retry)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("delivering alerts: {}", caracal_core::error::chain(&e)))
            }
        };
        run.error = result.err().or(delivered.err());
        caracal_telemetry::emit(ScheduledQueryRan { run: &run });
        run
    }

    async fn run_rows(
        &self,
        query: &ScheduledQuery,
        engine: &dyn QueryEngine,
        at: DateTime<Utc>,
        run: &mut QueryRun,
    ) -> std::result::Result<(), String> {
        let rows = match tokio::time::timeout(query.timeout, engine.rows(&query.sql, at)).await {
            Ok(rows) => rows?,
            Err(_) => {
                return Err(format!("timed out after {} minutes", query.timeout.as_secs() / 60));
            }
        };
        run.rows = rows.len();
        let log_type: Arc<str> = caracal_detect::rules::scheduled_log_type(&query.name).into();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let mut metas = Vec::with_capacity(BATCH);
            let mut items = Vec::with_capacity(BATCH);
            for mut row in rows.by_ref().take(BATCH) {
                let time = row.get(caracal_core::event::P_EVENT_TIME).and_then(row_time);
                row.insert(caracal_core::event::P_LOG_TYPE.into(), Value::from(&*log_type));
                metas.push(EventMeta {
                    time: time.unwrap_or_else(Utc::now),
                    log_type: log_type.clone(),
                });
                items.push(Value::Object(row));
            }
            let json = serde_json::to_string(&items).map_err(|e| e.to_string())?;
            let detector = self.detector.clone();
            let matches = tokio::task::spawn_blocking(move || detector.run_batch(&json, &metas))
                .await
                .map_err(|e| format!("rule task: {e}"))?
                .map_err(|e| caracal_core::error::chain(&e))?;
            run.matches += matches.len();
        }
        Ok(())
    }

    /// Runs every query on its schedule until `stop` is set; a run in progress is
    /// finished, not cut. Runs that fall due together run one after the other, each as
    /// of its due time (its macros' window ends there, so consecutive windows meet); a
    /// tick missed while other runs took long is skipped, not run late twice.
    pub async fn run_on_schedule(&self, engine: &dyn QueryEngine, mut stop: watch::Receiver<bool>) {
        let start = Utc::now();
        let mut due: Vec<Option<DateTime<Utc>>> =
            self.queries.iter().map(|q| q.next_run(start)).collect();
        loop {
            let Some(next) = due.iter().flatten().min().copied() else {
                warn!("No scheduled query has a future run; the query scheduler stops.");
                return;
            };
            let wait = (next - Utc::now()).to_std().unwrap_or_default();
            tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => return,
                () = tokio::time::sleep(wait) => {}
            }
            for (query, when) in self.queries.iter().zip(due.iter_mut()) {
                let Some(at) = when.filter(|t| *t <= next) else { continue };
                if *stop.borrow() {
                    return;
                }
                self.run(query, engine, at).await;
                *when = query.next_run(Utc::now().max(at));
            }
        }
    }
}

/// A row's `p_event_time`, as the query printed it (RFC 3339, or with a space).
fn row_time(value: &Value) -> Option<DateTime<Utc>> {
    let text = value.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(schedule: Schedule) -> ScheduledQuery {
        ScheduledQuery::new("Q", "SELECT 1", &schedule).unwrap()
    }

    #[test]
    fn rate_and_cron_schedules_give_the_next_run() {
        let t = DateTime::parse_from_rfc3339("2026-01-01T10:07:30Z").unwrap().with_timezone(&Utc);
        let rate = query(Schedule::Rate { minutes: 15, timeout_minutes: 5 });
        assert_eq!(rate.next_run(t).unwrap().to_rfc3339(), "2026-01-01T10:15:00+00:00");
        let daily = query(Schedule::Rate { minutes: 1440, timeout_minutes: 5 });
        assert_eq!(daily.next_run(t).unwrap().to_rfc3339(), "2026-01-02T00:00:00+00:00");
        let cron = query(Schedule::Cron { expression: "0 */6 * * *".into(), timeout_minutes: 5 });
        assert_eq!(cron.next_run(t).unwrap().to_rfc3339(), "2026-01-01T12:00:00+00:00");
        let every = query(Schedule::Cron { expression: "* * * * *".into(), timeout_minutes: 1 });
        assert_eq!(every.describe(), "cron * * * * *");
        assert_eq!(rate.describe(), "every 15 min");
        assert_eq!(every.next_run(t).unwrap().to_rfc3339(), "2026-01-01T10:08:00+00:00");
    }

    #[test]
    fn row_times_read_the_forms_a_query_prints() {
        let want = "2026-01-01T10:07:30+00:00";
        for text in
            ["2026-01-01T10:07:30Z", "2026-01-01T10:07:30.000000", "2026-01-01 10:07:30+00:00"]
        {
            assert_eq!(row_time(&Value::from(text)).unwrap().to_rfc3339(), want, "{text}");
        }
        assert!(row_time(&Value::from(3)).is_none());
    }
}
