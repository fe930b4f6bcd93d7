//! caracal's application layer: the use cases that the CLI, `caracal serve`, the HTTP
//! API and the Lambda handlers share, so each of those is a thin adapter (parse input →
//! call a use case → print or answer).
//!
//! - [`Context::from_config`] builds the AWS entry point and the store once (on first
//!   use), and keeps compiled policy packs; [`Context::from_parts`] takes them ready-made (demo, tests).
//! - Organizations: [`organization::sessions`] opens the member accounts `[organization]`
//!   selects; an unreachable account is reported, the others are scanned.
//! - Posture: [`posture::scan_and_evaluate`] (scan a [`ScanScope`], evaluate a
//!   [`PolicySource`], store verdicts), [`posture::evaluate`] and
//!   [`posture::evaluate_ids`] (re-evaluate stored snapshots).
//! - Logs: a [`LogPipeline`] (parsers, custom schemas, routing, lake) driven by
//!   [`logs::process_paths`], [`logs::poll`] and [`logs::process_batch`] (a batch of
//!   queue messages → report, done and failed message ids, retryable or not).
//!   [`Outputs`] sends events to the lake and through the rules (`caracal-detect`),
//!   delivering the alerts they open.
//! - Serverless fan-out: [`fanout::scan_targets`] splits a scan into one
//!   [`fanout::ScanTarget`] per account and region, [`fanout::scan_target`] runs one.
//! - Lake maintenance: [`lake_ops`] describes a lake's tables as Athena / Glue DDL or
//!   CloudFormation and compacts a local lake.
//! - Sources: [`sources`] reads each log source through its own role, records what it
//!   delivered, and checks its role, bucket and key (`caracal sources list|check`).
//! - Scheduled queries: [`scheduled::ScheduledRules`] runs a pack's scheduled queries on
//!   their schedules through a [`scheduled::QueryEngine`] and their rows through the
//!   scheduled rules, into the same alerts as streaming rules.
//! - Indicator search: [`search::LakeSearch`] is what `caracal search` and
//!   `GET /v1/search` ask of the lake, with one result shape for both.
//! - Alerts: [`alerts`] lists, shows and updates them.
//! - CloudTrail-driven rescans: [`changes`] maps write events to the resources they
//!   changed, coalesces them and rescans and re-evaluates just those.
//! - Remediation: [`remediation::plan`] / [`remediation::apply`] with a real [`Actor`].
//! - Reports: [`report`] writes verdicts as a table, JSON, CSV, OCSF or ASFF, builds
//!   per-framework reports (table, JSON, CSV, HTML) and imports ASFF into Security Hub.
//! - API tokens: [`tokens`] creates, lists, revokes and verifies scoped, hashed tokens.
//!
//! Every use case is async and needs a multi-threaded tokio runtime (parsing and Python
//! run in blocking sections).
#![deny(missing_docs)]

pub mod alerts;
pub mod auto_remediate;
pub mod change_events;
pub mod changes;
pub mod context;
pub mod detect_sink;
pub mod error;
pub mod events;
pub mod fanout;
pub mod lake_ops;
pub mod logs;
pub mod organization;
pub mod outputs;
pub mod posture;
pub mod remediation;
pub mod report;
pub mod scheduled;
pub mod search;
pub mod sources;
pub mod tokens;

pub use crate::{
    context::{Context, open_store},
    detect_sink::DetectSink,
    error::{Error, Result},
    logs::{BatchOutcome, FailedMessage, LogOptions, LogPipeline},
    outputs::Outputs,
    posture::{Evaluation, PolicySource, ScanResult, ScanScope},
    remediation::Actor,
};
