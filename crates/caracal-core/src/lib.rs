//! caracal's shared vocabulary. Every other crate speaks in these types; this crate
//! makes no AWS call and runs no Python.
//!
//! - [`Resource`]: one snapshot of a cloud resource, an envelope plus the service's own
//!   attributes, serialized flat with the field names policies read (RESOURCES.md).
//! - [`ComplianceStatus`], [`Severity`], [`Finding`]: what a policy says about a resource.
//! - [`ScanReport`]: what one scan saw, changed and failed to see.
//! - [`event`]: the standard `p_` field names of a normalized log event.
//! - [`Alert`], [`AuditRecord`]: what detection and remediation leave behind.
//! - [`Config`]: `caracal.toml`, with environment overrides.
#![deny(missing_docs)]

pub mod alert;
pub mod audit;
pub mod compliance;
pub mod config;
mod detect_config;
pub mod error;
pub mod event;
pub mod resource;
pub mod scan;
pub mod time;

pub use crate::{
    alert::{Alert, AlertChange, AlertKind, AlertStatus, Delivery, DeliveryStatus},
    audit::{AuditOutcome, AuditRecord},
    compliance::{Cause, ComplianceStatus, Finding, Severity, Transition},
    config::Config,
    error::Error,
    resource::{ChangeKind, Resource, ResourceChange, ResourceType},
    scan::{BlockedRegion, ScanError, ScanReport, TypeSummary},
};
