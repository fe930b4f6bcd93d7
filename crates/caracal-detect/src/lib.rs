//! Detection: rules over normalized log events, alerts with Panther's semantics, and
//! their delivery.
//!
//! - [`Rules::compile`] loads rule packs ([`RuleSource`]) into the embedded engine,
//!   with each rule's [`RuleMeta`] (`DedupPeriodMinutes`, `Threshold`, `CreateAlert`,
//!   `OutputIds`).
//! - A [`Detector`] runs them over batches of events and counts each match into its
//!   dedup window in the store (`AlertStore::record_match`, conditional, so concurrent
//!   processes agree): an alert opens when the threshold is reached, later matches in
//!   the window add to it; rule errors become RULE_ERROR alerts per rule and exception
//!   type; `CreateAlert: false` matches are stored as signals.
//! - [`posture`]: rules' `resource_lookup`, `compliance_status` and caching helpers
//!   answered by the real store.
//! - `caracal_app::DetectSink` makes the detector an `EventSink`, so every ingest path
//!   runs rules; this crate itself needs no log reader or lake writer.
//! - [`destinations`]: one module per kind, registered in [`destinations::KINDS`];
//!   a [`destinations::Router`] picks an alert's destinations when it opens, and
//!   [`delivery::deliver_pending`] delivers with retries, keeping failures pending.
//!
//! - [`policy_alerts`]: a resource that starts failing a policy opens one alert per
//!   resource and policy; passing again (or deletion) resolves it.
//!
//! New destination: `src/destinations/<kind>.rs` with a `build` function, one line in
//! `KINDS`.
#![deny(missing_docs)]

pub mod delivery;
pub mod destinations;
pub mod detector;
pub mod error;
pub mod events;
pub mod policy_alerts;
pub mod posture;
pub mod rules;
mod state;

pub use crate::{
    delivery::{AlertUpdate, DeliveryReport, RetryPolicy, deliver_pending, update_alert},
    destinations::Router,
    detector::{Detector, EventMeta, Summary},
    error::{Error, Result},
    policy_alerts::{PolicyAlertReport, PolicyMeta},
    posture::{StoreKv, StoreLookup},
    rules::{RuleMeta, RuleSource, Rules},
};
