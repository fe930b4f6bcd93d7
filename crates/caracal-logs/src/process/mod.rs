//! Reading one object, in rooms:
//! - `decode.rs`: gzip and zstd undone, UTF-16 turned into UTF-8 ([`decode()`]);
//! - `processor.rs`: the [`Processor`], which picks the reading mode for an object and
//!   classifies, normalizes and counts each record;
//! - the reading modes: `lines.rs` (text or JSON lines, and the switch to pretty-printed
//!   JSON) and `json.rs` (a streamed JSON array or `{"Records":[...]}`, JSON values read
//!   across lines); wrappers such as GuardDuty's `{"findings":[...]}` are split by their
//!   parser ([`crate::Parser::split`]);
//! - `report.rs`: the [`Report`] that accounts for every record.

mod decode;
mod json;
mod lines;
mod processor;
mod report;

pub use self::decode::decode;
pub use self::processor::{DEFAULT_MAX_LINE, ObjectInfo, Processor};
pub use self::report::{KEPT_ERRORS, Report, SourceStats, TypeStats};
