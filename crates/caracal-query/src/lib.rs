//! SQL over caracal's data lake with Apache DataFusion.
//!
//! [`Lake::open`] turns a local lake folder (as `caracal logs process --lake` writes it),
//! and `Lake::open_s3` (feature `s3`) an S3 lake read through the SDK's client, into a
//! session: one table per log type (`aws_cloudtrail`, `aws_vpcflow`, ... the lake
//! writer's `table_name()`), the match tables (`rule_matches`, `rule_errors`, `signals`)
//! and the [`ALL_LOGS`] view over every log table's `p_` columns. Each table is a
//! [`LakeTable`]: its schema merges every file's (a column added later is null in older
//! files), and a scan opens only the hour folders that its `p_event_time` filters and the
//! session's [`Bounds`] (`--since/--until`) allow.
//!
//! [`search()`] finds an indicator value in the `p_any_*` columns of every table;
//! [`output::write`] prints rows as a table, JSON lines or CSV; [`Lake::rows`] returns
//! them as JSON objects (scheduled rules' events). [`macros::expand`] rewrites the pack
//! format's table prefixes and time macros (`p_occurs_since('1 day')`).
//!
//! DataFusion lives in this crate and the binary only: the Lambda functions and the
//! other libraries do not pay its build time.
#![deny(missing_docs)]

pub mod error;
pub mod macros;
pub mod output;
#[cfg(feature = "s3")]
pub mod s3;
pub mod search;
pub mod session;
pub mod table;

pub use crate::{
    error::Error,
    output::Format,
    search::{Found, Hit, search},
    session::{ALL_LOGS, Lake, MATCH_TABLES},
    table::{Bounds, LakeTable},
};
pub use datafusion;
