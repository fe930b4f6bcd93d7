//! caracal's state: resource snapshots and their history, compliance, alerts with their
//! dedup windows, remediation audit records, and a small key-value store for detections.
//!
//! Each concern is a trait: [`ResourceStore`], [`ComplianceStore`], [`AlertStore`],
//! [`AuditStore`], [`KvStore`]. A backend implements all five and [`Store`], which hands
//! them out; callers hold an `Arc<dyn Store>` from [`open`].
//!
//! Backends:
//! - [`SqliteStore`] (`sqlite/`): one file, WAL, migrations; the local default.
//! - [`DynamoStore`] (`dynamodb/`): DynamoDB tables, laid out in its module doc; the
//!   serverless shape. The SDK client comes from `caracal-aws`.
//!
//! Both pass the conformance suite in `tests/stores/conformance.rs`. A new backend is a module
//! implementing the five traits, a line in [`open`] and a line in the suite's backend list.
#![deny(missing_docs)]

pub mod alerts;
pub mod audit;
pub mod compliance;
pub mod dynamodb;
pub mod error;
pub mod kv;
pub mod resources;
pub mod sqlite;
mod store;
mod time;
mod token;

pub use crate::{
    alerts::{AlertStore, DedupOutcome, MatchKey, alert_id},
    audit::{AuditFilter, AuditStore},
    compliance::{ComplianceStore, OverviewRow, StatusCounts, TransitionQuery},
    dynamodb::DynamoStore,
    error::{Error, Result},
    kv::KvStore,
    resources::{
        Page, PageRequest, ResourceFilter, ResourceStore, SnapshotPage, SnapshotRef,
        StoredResource, StoredSnapshot,
    },
    sqlite::SqliteStore,
    store::{Store, open},
};
