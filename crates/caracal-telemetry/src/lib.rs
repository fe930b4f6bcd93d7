//! caracal's internal events. Each thing worth counting (a scope scanned, an object
//! processed, records rejected, a remediation run, a detection that failed, an alert
//! delivered) is a type implementing [`InternalEvent`], which logs and counts in one
//! place, and [`emit`] is the only way to raise one.
//!
//! Counters are process-wide ([`Counters::global`]). Each [`Counter`] declares its label
//! names once; values come from closed sets (resource and log types, codes, outcomes, ids
//! from the pack), never error text or ARNs, so what `/metrics` exposes stays bounded.
//! Noisy events can ask for a rate limit: a storm of one event type logs once per window,
//! and the next log says how many were held back.

mod counters;
mod limit;

use std::time::Duration;

pub use crate::counters::{Counter, Counters, Sample};

/// An event that logs and counts.
pub trait InternalEvent {
    /// Writes the event to the log.
    fn log(&self);

    /// Adds the event to `counters`.
    fn count(&self, counters: &Counters);

    /// The shortest time between two logs of this event type; zero logs every one.
    fn log_every(&self) -> Duration {
        Duration::ZERO
    }
}

/// Counts `event` into the process's counters and logs it, unless its type logged within
/// its [`InternalEvent::log_every`] window.
pub fn emit<E: InternalEvent>(event: E) {
    event.count(Counters::global());
    let every = event.log_every();
    if every.is_zero() {
        event.log();
        return;
    }
    match limit::admit(std::any::type_name::<E>(), every) {
        limit::Admit::Log { held_back } => {
            if held_back > 0 {
                tracing::warn!(
                    event = std::any::type_name::<E>(),
                    held_back,
                    "Similar events were not logged (rate limit); the counters have them all."
                );
            }
            event.log();
        }
        limit::Admit::HoldBack => {}
    }
}
