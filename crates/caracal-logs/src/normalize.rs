//! Normalization: a parser's output plus the `p_` fields and indicators.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::columns::Fields;
use crate::event::{Event, RowIds};
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
/// declares and the standard fields. `log_type` is passed in so it is shared, not copied.
pub fn normalize(
    parsed: Parsed,
    parser: &dyn Parser,
    log_type: &Arc<str>,
    source: &SourceInfo,
    row_ids: &RowIds,
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
        log_type: log_type.clone(),
        row_id: row_ids.next(&parse_time),
        event_time: parsed.event_time.unwrap_or(parse_time),
        parse_time,
        source_id: source.id.clone(),
        source_label: source.label.clone(),
        indicators,
        fields: parsed.fields,
    }
}
