//! Reading the events behind an alert back out of a local lake's match tables
//! (`rule_matches`, `rule_errors`, `signals`; written by [`crate::lake`]).
//!
//! Match rows are partitioned by their event time, and every event counted toward an
//! alert lies between the alert's `first_seen` and `last_seen`, so only those hours'
//! partitions are read.

use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, RecordBatch};
use caracal_core::Alert;
use caracal_core::event::{self as p, format_p_time};
use chrono::{DateTime, Duration, DurationRound, Utc};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::lake::partition;

/// Every event behind `alert` in the local lake under `root`, oldest first: the event's
/// own fields with its `p_` fields and the match's columns. At most `limit` events.
pub fn read_local(root: &Path, alert: &Alert, limit: usize) -> Result<Vec<Value>, Error> {
    let table = p::match_table(alert.kind);
    let mut out = Vec::new();
    let Ok(mut hour) = alert.first_seen.duration_trunc(Duration::hours(1)) else {
        return Ok(out);
    };
    while hour <= alert.last_seen && out.len() < limit {
        let folder = root.join(partition(table, &hour));
        let mut files: Vec<_> = match std::fs::read_dir(&folder) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
                .collect(),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(err) => return Err(lake_err(&folder, err.to_string())),
        };
        files.sort();
        for file in files {
            read_file(&file, &alert.id, limit, &mut out)?;
        }
        hour += Duration::hours(1);
    }
    out.sort_by(|a, b| a[p::P_EVENT_TIME].as_str().cmp(&b[p::P_EVENT_TIME].as_str()));
    Ok(out)
}

fn lake_err(path: &Path, reason: String) -> Error {
    Error::Lake { key: path.display().to_string(), reason }
}

fn read_file(path: &Path, alert_id: &str, limit: usize, out: &mut Vec<Value>) -> Result<(), Error> {
    let file = File::open(path).map_err(|e| lake_err(path, e.to_string()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| lake_err(path, e.to_string()))?;
    for batch in reader {
        let batch = batch.map_err(|e| lake_err(path, e.to_string()))?;
        rows(&batch, alert_id, limit, out).map_err(|reason| lake_err(path, reason))?;
    }
    Ok(())
}

/// Appends the rows of `batch` that belong to `alert_id`.
fn rows(
    batch: &RecordBatch,
    alert_id: &str,
    limit: usize,
    out: &mut Vec<Value>,
) -> Result<(), String> {
    let ids = string_column(batch, p::P_ALERT_ID)?;
    for row in 0..batch.num_rows() {
        if out.len() >= limit {
            return Ok(());
        }
        if ids.is_null(row) || ids.value(row) != alert_id {
            continue;
        }
        let text = string_column(batch, "event")?.value(row);
        let mut object = match serde_json::from_str(text) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        for (i, field) in batch.schema().fields().iter().enumerate() {
            if field.name() == "event" {
                continue;
            }
            match cell(batch.column(i).as_ref(), row) {
                Value::Array(items) if items.is_empty() => {}
                value => {
                    object.insert(field.name().clone(), value);
                }
            }
        }
        out.push(Value::Object(object));
    }
    Ok(())
}

fn string_column<'a>(
    batch: &'a RecordBatch,
    name: &str,
) -> Result<&'a arrow_array::StringArray, String> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or_else(|| format!("no text column {name}: not a match table"))
}

/// One cell as JSON: text, a `p_` time, or a list of text.
fn cell(column: &dyn Array, row: usize) -> Value {
    if column.is_null(row) {
        return Value::Null;
    }
    if let Some(text) = column.as_string_opt::<i32>() {
        return Value::String(text.value(row).to_owned());
    }
    if let Some(times) = column.as_primitive_opt::<TimestampMicrosecondType>() {
        return DateTime::<Utc>::from_timestamp_micros(times.value(row))
            .map_or(Value::Null, |t| Value::String(format_p_time(&t)));
    }
    if let Some(list) = column.as_list_opt::<i32>() {
        let items = list.value(row);
        return match items.as_string_opt::<i32>() {
            Some(items) => {
                Value::Array(items.iter().flatten().map(|s| Value::String(s.to_owned())).collect())
            }
            None => Value::Null,
        };
    }
    Value::Null
}
