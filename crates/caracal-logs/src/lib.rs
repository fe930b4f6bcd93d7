//! Turns security logs into normalized events. Every input record becomes an event or a
//! counted [`RecordError`] naming its object, line and reason; nothing is dropped silently
//! (`Report::events + Report::errors == Report::records`).
//!
//! - Sources: local files and folders ([`process_path`]), S3 objects and S3 notifications
//!   on SQS ([`poll()`], over the [`ObjectStore`] and [`Queue`] traits; [`s3`] implements
//!   them with the AWS SDK behind the default `aws` feature). A [`SourcesFile`] maps S3
//!   key prefixes to allowed log types; a [`Router`] picks the processor per object.
//! - A [`Processor`] ([`process`]) reads one object (gzip and zstd undone, UTF-16 made
//!   UTF-8 by [`decode`]) in the right mode: text or JSON lines, a streamed JSON array or
//!   CloudTrail `{"Records":[...]}` (followed by more documents, one per line), or
//!   pretty-printed JSON. A wrapper of several records, such as GuardDuty's
//!   `{"findings":[...]}`, is split by its parser ([`Parser::split`]). Each record goes to
//!   the [`Classifier`], which tries the candidate parsers from [`PARSERS`] (plus custom
//!   YAML [`schema`]s): the last match first, except that a JSON record goes to the
//!   more specific parsers first ([`Parser::specificity`]).
//! - [`normalize`] adds the `p_` fields and the indicator arrays ([`Indicators`]).
//! - The [`Event`] goes to an [`EventSink`]: the [`LakeWriter`] (Parquet under Hive
//!   partitions, memory-bounded), a [`ChannelSink`] for the rules engine, or both ([`Tee`]).
//!
//! New log type: a YAML schema in the repository's `schemas/` folder (embedded at build
//! time, listed by the [`Catalog`]) with golden records in `tests/golden/<LogType>/`; or,
//! where speed matters, `src/parsers/<name>.rs`, a line in [`PARSERS`], samples in
//! `tests/data/<LogType>/`.
#![deny(missing_docs)]

pub mod catalog;
pub mod classify;
pub mod compact;
/// The event types, defined in `caracal-core` (re-exported here for the parsers' paths).
pub use caracal_core::event::{columns, indicators};
/// The normalized event, defined in `caracal-core`.
pub mod event {
    pub use caracal_core::event::{Event, Origin, RowId, RowIdBlock, RowIds, format_p_time};
}
pub mod error;
pub mod events;
pub mod glue;
pub mod lake;
pub mod lake_tables;
pub mod local;
pub mod matches;
pub mod normalize;
pub mod parsers;
pub mod poll;
pub mod process;
#[cfg(feature = "aws")]
pub mod s3;
pub mod schema;
pub mod sink;
pub mod sources;

pub use crate::{
    catalog::{Catalog, TypeSource},
    classify::Classifier,
    columns::Fields,
    error::{Error, RecordError, RejectCode},
    event::Event,
    indicators::{Indicators, Kind},
    lake::{LakeConfig, LakeStore, LakeWriter, LocalLake, Tables},
    local::{files_under, process_path},
    normalize::{SourceInfo, normalize},
    parsers::{PARSERS, Parser},
    poll::{ObjectStore, PollOptions, PollOutcome, Queue, parse_notification, poll},
    process::{ObjectInfo, Processor, Report, decode},
    schema::{CustomParser, LogSchema},
    sink::{ChannelSink, Discard, EventSink, Tee},
    sources::{PrefixRule, Router, SourceConfig, SourceConfigError, SourcesFile},
};
