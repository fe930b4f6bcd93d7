//! [`SeedError`] and the helper that names what was being created.

use super::MAX_SCALE;

/// An error while seeding.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// The endpoint is not loopback: refusing to create resources in a real account.
    #[error("refusing to seed {0:?}: the seeder only runs against an emulator on 127.0.0.1")]
    NotAnEmulator(Option<String>),
    /// The scale is out of range.
    #[error("scale {0} is out of range 1..={MAX_SCALE}")]
    Scale(u32),
    /// An SDK call failed.
    #[error("seeding {what} failed: {reason}")]
    Call {
        /// What was being created.
        what: String,
        /// The SDK's error chain.
        reason: String,
    },
}

/// Maps an SDK error to [`SeedError::Call`] naming `what` was being created.
pub(super) fn call<E: std::error::Error + 'static>(
    what: impl Into<String>,
) -> impl FnOnce(E) -> SeedError {
    let what = what.into();
    move |e| SeedError::Call { what, reason: caracal_core::error::chain(&e) }
}
