//! Normalization: a parser's output plus the `p_` fields and indicators.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::columns::Fields;
use crate::event::{Event, Origin, RowId};
use crate::indicators::Indicators;
use crate::parsers::util::walk_map;
use crate::parsers::{Parsed, Parser};

/// Where events come from, for `p_source_id` and `p_source_label`.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    /// `p_source_id`: a stable id (the source's name in config, or the bucket).
    pub id: Arc<str>,
    /// `p_source_label`: a human label.
    pub label: Arc<str>,
}

impl SourceInfo {
    /// A source with this id and label.
    pub fn new(id: &str, label: &str) -> Self {
        SourceInfo { id: id.into(), label: label.into() }
    }
}

/// Turns one parsed record into an [`Event`]: fills indicators from the fields the parser
/// declares and the standard fields. `origin` is passed in so it is shared, not copied.
pub fn normalize(
    parsed: Parsed,
    parser: &dyn Parser,
    origin: &Arc<Origin>,
    row_id: RowId,
    parse_time: DateTime<Utc>,
) -> Event {
    let mut indicators = match parsed.indicators {
        Some(found) => found,
        None => {
            let mut found = Indicators::default();
            let walked;
            let map = match &parsed.fields {
                Fields::Object(map) => map,
                Fields::Record(record) => {
                    walked = record.to_map();
                    &walked
                }
            };
            for field in parser.indicator_fields() {
                walk_map(map, &field.path, &mut |v| found.add_value(field.kind, v));
            }
            found
        }
    };
    indicators.finish();
    Event {
        origin: origin.clone(),
        row_id,
        event_time: parsed.event_time.unwrap_or(parse_time),
        parse_time,
        indicators,
        fields: parsed.fields,
    }
}
