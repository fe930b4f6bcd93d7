//! Fixes failing AWS resources, safely: every fix is planned, re-checked, applied,
//! verified and audited. The HTTP API, auto-remediation and `caracal remediate` call it.
//!
//! [`REMEDIATIONS`] is the registry: one module per remediation in `src/remediations/`,
//! each with an id (`AWS.S3.BlockBucketPublicAccess`), the resource type it fixes, a risk,
//! its IAM permissions and typed parameters; `remediations/<ID>.yml` is its catalog entry
//! and a test keeps both in step. A remediation's `check` reads the snapshot fields it
//! decides on; its pure `plan` turns them into the exact [`ApiCall`]s (none: already
//! compliant) and the expected [`FieldChange`]s; `apply` makes one call.
//!
//! The [`Executor`] runs the sequence for a [`Request`] (actor, resource id, remediation
//! id, parameters):
//!
//! 1. [`Executor::plan`]: resolve the [`Target`] (account, region), fresh read, [`Plan`].
//! 2. [`Executor::apply`] with the approved plan: **re-check** (fresh read; already
//!    compliant → no-op success; fingerprint or calls changed → [`Error::ChangedSincePlan`]),
//!    make the plan's calls, **verify** with a fresh read (`fixed` / `not_fixed`), then
//!    refresh a scanned resource's stored snapshot with `caracal_scan::rescan_resource`.
//! 3. Every attempt, refusals and failures included, leaves one `AuditRecord` in the store.
//!
//! [`Executor::run`] plans and applies in one step; [`Executor::run_bulk`] adds the
//! max-resources circuit breaker. Sessions use the account's remediation role.
//!
//! ```no_run
//! # async fn demo(aws: caracal_aws::Aws, store: std::sync::Arc<dyn caracal_store::Store>) -> Result<(), caracal_remediate::Error> {
//! use caracal_remediate::{Executor, Request};
//! let executor = Executor::new(aws, vec![], store);
//! let req = Request {
//!     actor: "api:alice".into(),
//!     resource_id: "arn:aws:s3:::my-bucket".into(),
//!     remediation_id: "AWS.S3.BlockBucketPublicAccess".into(),
//!     parameters: Default::default(),
//! };
//! let plan = executor.plan(&req).await?;        // show it, get approval
//! let report = executor.apply(&req, &plan).await?;
//! println!("{}", report.outcome.as_str());      // fixed / not_fixed / already_compliant
//! # Ok(()) }
//! ```
//!
//! New remediation: `src/remediations/<name>.rs` implementing `Fix`, a line in
//! [`REMEDIATIONS`], `remediations/<ID>.yml`, and an emulator test in `tests/`.
#![deny(missing_docs)]

mod error;
pub mod events;
mod executor;
mod params;
mod plan;
mod remediations;
mod resource_policy;
mod sdk;
mod target;

pub use crate::{
    error::Error,
    executor::{Clock, DEFAULT_MAX_RESOURCES, Executor, Report, Request},
    params::{ParamKind, ParamSpec, parse_pairs},
    plan::{ApiCall, FieldChange, Plan, Planned},
    remediations::{Meta, REMEDIATIONS, Remediation, Risk, find},
    target::{REGION_SETTINGS, Target},
};
