//! Test support shared by every crate's tests, the benchmarks and `caracal demo`.
//!
//! - [`Emulator`]: moto's server mode on 127.0.0.1 and a free port, started from the
//!   project's Python venv through a small launcher that corrects the few responses
//!   aws-sdk-rust rejects; killed on drop, also when the test panics, and when the test
//!   process itself dies (`PR_SET_PDEATHSIG`).
//! - [`FaultProxy`]: an HTTP proxy in front of the emulator that answers chosen operations
//!   with faults (empty `200`, `500`, throttling, a bad document, a dropped connection).
//! - [`seed`]: builds a deterministic, deliberately misconfigured account at a chosen
//!   scale through the real SDK, and returns a [`Manifest`] of what it made.
//! - [`Receiver`]: a recording HTTP server on 127.0.0.1 for destination tests.
#![deny(missing_docs)]

mod emulator;
mod fault_proxy;
pub mod receiver;
pub mod seed;

pub use crate::emulator::{ACCOUNT_ID, Emulator, EmulatorError, REGION, venv_dir};
pub use crate::fault_proxy::{Fault, FaultProxy, Matcher};
pub use crate::receiver::{Received, Receiver};
pub use crate::seed::{Manifest, SeedError};
