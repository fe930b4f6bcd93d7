//! caracal's embedded CPython engine: loads panther-analysis packs, evaluates policies
//! over resources and rules over log events, and runs the packs' embedded tests.
//!
//! - [`pack::load`] walks folder trees into a [`Pack`]: policies and rules
//!   ([`DetectionSpec`]), globals, data models and pack definitions. Keys are checked
//!   leniently (unknown keys warn; [`LoadOptions::strict_keys`] rejects); a bad spec becomes an
//!   [`InvalidSpec`], kinds not run yet are counted in [`Pack::unsupported`].
//! - [`Engine::new`] compiles a pack once into the embedded interpreter. Its Python side
//!   is the package `python/_caracal_runtime/` (a module per concern: watchdog, lazy
//!   objects, events and data models, import hook, engine, alerts, output, tests,
//!   benchmark baseline), embedded in the binary and imported from memory
//!   (`src/interp.rs`); `tests/python/` tests it from disk. Globals import by GlobalID;
//!   `panther_core`, `panther_detection_helpers.caching` (backed by a [`KvStore`]) and
//!   `caracal_posture` (resource and compliance lookups, backed by a [`PostureLookup`];
//!   also behind the public `panther_oss_helpers.resource_lookup`) are provided.
//! - Batches: [`Engine::evaluate_resources`] (the scanner) gives a [`PolicyVerdict`]
//!   per applicable resource × policy, honouring `ResourceTypes` and `Suppressions`;
//!   [`Engine::findings`] turns them into [`caracal_core::Finding`]s.
//!   [`Engine::evaluate_events`] (detection) gives a [`RuleOutcome`] per match or error,
//!   with production fallbacks for failing optional functions. One GIL acquisition and
//!   one decoding pass (`src/decode.rs`, large nested objects lazily) per batch; alert
//!   fields come back by name (`src/outcome.rs`). What detections print goes to stderr,
//!   at most 64 Ki characters per call.
//! - Every call of detection code has a time limit ([`EngineOptions::time_limit`]);
//!   a watchdog thread interrupts runaway code with `DetectionTimeout`.
//! - [`worker`]: by default ([`Isolation::detect`]) an engine runs its detections in
//!   supervised worker processes (`src/local.rs`, the in-process engine, runs inside
//!   each), so a detection stuck inside one C call, calling `os._exit`, crashing the
//!   interpreter or allocating past [`EngineOptions::memory_limit`] costs only its own
//!   verdicts (ERROR with the reason) or its own test (failed). A program makes itself
//!   a worker host by calling [`worker::serve_if_requested`] first thing in `main`
//!   (the `caracal` binary does); [`Isolation::InProcess`] keeps everything in this
//!   process (the benchmark's baseline).
//! - [`testing::run`] is `caracal test`: a [`TestReport`] printed by
//!   [`testing::print_text`] or serialized as JSON. A detection, data model or global
//!   that fails to import (a missing module) is an invalid spec there, which fails the run.
//! - [`venv`]: a virtualenv for packs' third-party imports.
//!
//! Every engine call blocks until its batch is done: from async code, call it in
//! `tokio::task::spawn_blocking`. In-process, calls share one GIL; with workers, each
//! calling thread gets a worker process of its own.
//!
//! The interpreter is the one pyo3 was built against: build with
//! `PYO3_PYTHON=$(command -v python3)` (pyenv 3.11.7 on our machines) so that build
//! and run agree on the standard library.
//!
//! ```no_run
//! # fn demo(resources: &[caracal_core::Resource]) -> Result<(), caracal_python::Error> {
//! use caracal_python::{Engine, EngineOptions, LoadOptions};
//! let pack = caracal_python::pack::load(&["policies".into()], &LoadOptions::default())?;
//! let engine = Engine::new(&pack, &EngineOptions::default())?;
//! for finding in engine.findings(resources, chrono::Utc::now())? {
//!     if !finding.suppressed && finding.status.as_str() != "PASS" {
//!         println!("{} {} {}", finding.severity, finding.policy_id, finding.resource_id);
//!     }
//! }
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod decode;
pub mod engine;
pub mod error;
mod fold;
mod interp;
pub mod kv;
mod local;
mod outcome;
pub mod pack;
pub mod posture;
pub mod testing;
pub mod venv;
pub mod worker;

pub use crate::{
    engine::{Baseline, Engine, EngineOptions, PolicyVerdict, RuleOutcome},
    error::Error,
    interp::abort_when_stuck,
    kv::{KvStore, MemoryKv},
    pack::{DetectionKind, DetectionSpec, InvalidSpec, LoadOptions, Pack},
    posture::PostureLookup,
    testing::{TestOptions, TestReport},
    worker::{Isolation, WorkerCommand},
};
