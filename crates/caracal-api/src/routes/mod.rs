//! The handlers, one module per area.

pub mod alerts;
pub mod compliance;
pub mod meta;
pub mod remediation;
pub mod resources;
pub mod scans;
pub mod search;
