//! The only place caracal builds AWS SDK configuration. Everything that calls AWS gets its
//! clients from here, so credentials, assume-role, regions, the endpoint override, retry
//! and timeouts are decided once.
//!
//! [`Aws`] holds the base configuration (default credential chain or a profile, standard
//! or adaptive retry, timeouts, `endpoint_url` or `AWS_ENDPOINT_URL`). [`Aws::session`] resolves an
//! account: the caller's own, or one reached by assuming a role. A [`Session`] gives
//! per-region [`Clients`]; each service constructor sits behind a cargo feature of the
//! same name, so a crate compiles only the SDK crates it calls. Every request, retries
//! included, is counted by a [`RequestCounter`]. Every client also refuses a JSON-protocol
//! read answered `200` with a body that is not a JSON document (`response_check.rs`), so
//! a broken answer is a failed call, never an empty listing. Clients of a remediation
//! session retry only calls that AWS answered with throttling (`throttle.rs`).
//! [`organization::discover`] lists the member accounts `[organization]` selects
//! (feature `organizations`).
#![deny(missing_docs)]

mod clients;
mod counter;
mod error;
#[cfg(feature = "organizations")]
pub mod organization;
mod response_check;
#[cfg(feature = "s3control")]
mod s3control;
mod session;
mod throttle;

pub use crate::{
    clients::Clients,
    counter::RequestCounter,
    error::Error,
    session::{Aws, AwsBuilder, Purpose, Session},
};
pub use aws_types::SdkConfig;
