//! Snapshots AWS resources into the resource store and tells what changed.
//!
//! A [`Collector`] lists one resource type in one account and region (or once per account
//! for global types) and maps the SDK's answers to [`Resource`](caracal_core::Resource)
//! snapshots with the field names of `shared/RESOURCES.md`. [`COLLECTORS`] is the one
//! registry, sorted by type. The [`Scanner`] fans accounts × regions × types out with
//! bounded concurrency, writes snapshots through
//! [`ResourceStore`](caracal_store::ResourceStore), and marks a resource deleted only
//! when a complete, error-free listing of its type and region lacked it. Every failed
//! call becomes a [`ScanError`](caracal_core::ScanError) in the
//! [`ScanReport`](caracal_core::ScanReport); a resource whose detail call failed may be
//! kept with what was read, the failure listed on it under [`ERRORS_ATTRIBUTE`].
//!
//! Where: the named regions, else `[aws] regions`, else each account's enabled regions
//! (DescribeRegions), minus excluded ones ([`Scanner::excluding`]); a region AWS denies
//! the account (a service control policy) is skipped and reported as a
//! [`BlockedRegion`](caracal_core::BlockedRegion). Accounts are scanned
//! [`Scanner::accounts_at_once`] at a time.
//!
//! Targeted rescans: [`rescan_resource`] (one resource by id, for remediation) and a
//! [`ScanRequest`] narrowed to one account, region and type.
//!
//! [`place`] traces a `ResourceId` back to its type through each collector's
//! [`IdShape`], so the registry is the only list of types and id formats.
//!
//! New resource type: `src/collectors/<name>.rs` implementing [`Collector`] (type id, id
//! shape, permissions), a line in [`COLLECTORS`], and its attributes checked against the
//! emulator in `tests/`; the registry's tests walk every entry.
#![deny(missing_docs)]

pub mod collectors;
mod error;
pub mod events;
mod inventory;
mod regions;
mod rescan;
mod resource_id;
mod scanner;
mod sdk;

pub use crate::{
    collectors::{
        COLLECTORS, Collected, Collector, ERRORS_ATTRIBUTE, IdShape, ListingScope, Scope, collector,
    },
    error::{CollectError, Error},
    inventory::Inventory,
    rescan::rescan_resource,
    resource_id::{PlacedId, place},
    scanner::{Progress, ScanOutcome, ScanRequest, Scanner},
};
