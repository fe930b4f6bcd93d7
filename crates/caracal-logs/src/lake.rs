//! The data lake writer: Parquet files per log type under Hive partitions
//! `<table>/year=YYYY/month=MM/day=DD/hour=HH/<first p_row_id>.parquet`, partitioned by
//! `p_event_time`. Memory is bounded: a partition's buffer is written when it reaches
//! `max_file_bytes` or `max_age`, and the largest buffer is written whenever all of them
//! together exceed `max_buffered_bytes`. A partition whose put fails keeps its rows: the
//! next flush tries it again, and [`EventSink::rescue`] writes whatever is left to a local
//! folder in the same layout (`caracal logs process --rescue-dir`).
//!
//! Columns: the `p_` fields (times as UTC microsecond timestamps, indicators as string
//! lists) and `event`, the log's own fields as JSON text (one schema for every log type;
//! Athena reads it with `json_extract`).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::builder::{ListBuilder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use caracal_core::event as p;
use chrono::{DateTime, Datelike, Timelike, Utc};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use tracing::info;

use crate::error::Error;
use crate::event::{Event, Origin, RowId};
use crate::indicators::{Field as IndicatorField, Indicators};
use crate::sink::EventSink;

/// Where finished Parquet files go: a local folder ([`LocalLake`]) or an S3 bucket
/// (`s3::S3Lake`, with the `aws` feature).
pub trait LakeStore: Send {
    /// Stores `bytes` under `key` (a `/`-separated relative path), replacing any object.
    fn put(&mut self, key: &str, bytes: Vec<u8>) -> Result<(), Error>;
}

/// A lake in a local folder.
#[derive(Debug, Clone)]
pub struct LocalLake {
    root: PathBuf,
}

impl LocalLake {
    /// A lake rooted at `root` (created when the first file is written).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalLake { root: root.into() }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl LakeStore for LocalLake {
    fn put(&mut self, key: &str, bytes: Vec<u8>) -> Result<(), Error> {
        let path = self.root.join(key);
        let lake_err = |e: std::io::Error| Error::Lake {
            key: path.display().to_string(),
            reason: e.to_string(),
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(lake_err)?;
        }
        // Write then rename, so readers never see half a file.
        let tmp = path.with_extension("parquet.tmp");
        fs::write(&tmp, bytes).map_err(lake_err)?;
        fs::rename(&tmp, &path).map_err(lake_err)
    }
}

/// When buffers are written.
#[derive(Debug, Clone)]
pub struct LakeConfig {
    /// Write a partition's buffer when its rows reach this many bytes.
    pub max_file_bytes: usize,
    /// Write the largest buffer while all buffers hold more than this.
    pub max_buffered_bytes: usize,
    /// Write a buffer this long after its first row, at the next accept or
    /// [`LakeWriter::flush_expired`].
    pub max_age: Duration,
}

impl Default for LakeConfig {
    fn default() -> Self {
        LakeConfig {
            max_file_bytes: 16 << 20,
            max_buffered_bytes: 64 << 20,
            max_age: Duration::from_secs(60),
        }
    }
}

/// The table name of a log type: `AWS.CloudTrail` → `aws_cloudtrail`.
pub fn table_name(log_type: &str) -> String {
    log_type
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect()
}

/// The partition folder of an event time.
pub fn partition(table: &str, t: &DateTime<Utc>) -> String {
    format!(
        "{table}/year={:04}/month={:02}/day={:02}/hour={:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour()
    )
}

/// The Arrow schema of every lake table.
pub fn schema() -> Arc<Schema> {
    let utc = || DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let list = || DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
    let mut fields = vec![
        Field::new(p::P_LOG_TYPE, DataType::Utf8, false),
        Field::new(p::P_ROW_ID, DataType::Utf8, false),
        Field::new(p::P_EVENT_TIME, utc(), false),
        Field::new(p::P_PARSE_TIME, utc(), false),
        Field::new(p::P_SOURCE_ID, DataType::Utf8, false),
        Field::new(p::P_SOURCE_LABEL, DataType::Utf8, false),
    ];
    fields.extend(p::INDICATOR_FIELDS.iter().map(|name| Field::new(*name, list(), true)));
    fields.push(Field::new("event", DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

/// One buffered row: the event minus its parsed fields, which are kept as JSON text.
struct Row {
    origin: Arc<Origin>,
    row_id: RowId,
    event_time: DateTime<Utc>,
    parse_time: DateTime<Utc>,
    indicators: Indicators,
    json: String,
}

struct Buffer {
    rows: Vec<Row>,
    bytes: usize,
    opened: Instant,
}

/// Buffers events per table and hour and writes them as Parquet to a [`LakeStore`].
pub struct LakeWriter<S: LakeStore> {
    store: S,
    config: LakeConfig,
    buffers: HashMap<String, Buffer>,
    buffered_bytes: usize,
    written: Vec<String>,
}

impl<S: LakeStore> std::fmt::Debug for LakeWriter<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LakeWriter")
            .field("buffers", &self.buffers.len())
            .field("buffered_bytes", &self.buffered_bytes)
            .field("written", &self.written.len())
            .finish()
    }
}

impl<S: LakeStore> LakeWriter<S> {
    /// A writer to `store`.
    pub fn new(store: S, config: LakeConfig) -> Self {
        LakeWriter {
            store,
            config,
            buffers: HashMap::new(),
            buffered_bytes: 0,
            written: Vec::new(),
        }
    }

    /// Keys of the files written so far.
    pub fn written(&self) -> &[String] {
        &self.written
    }

    /// Bytes held in buffers now.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered_bytes
    }

    /// Writes every buffer older than `max_age`.
    pub fn flush_expired(&mut self) -> Result<(), Error> {
        let max_age = self.config.max_age;
        let old: Vec<String> = self
            .buffers
            .iter()
            .filter(|(_, b)| b.opened.elapsed() >= max_age)
            .map(|(k, _)| k.clone())
            .collect();
        for key in old {
            self.write(&key)?;
        }
        Ok(())
    }

    /// Writes every buffer and returns the store.
    pub fn finish(mut self) -> Result<S, Error> {
        self.flush()?;
        Ok(self.store)
    }

    /// Writes one partition's buffer. When the store fails the buffer stays, so a later
    /// flush or [`EventSink::rescue`] still has its rows.
    fn write(&mut self, partition_key: &str) -> Result<(), Error> {
        let Some(buffer) = self.buffers.get(partition_key) else { return Ok(()) };
        let key = put_buffer(&mut self.store, partition_key, buffer)?;
        self.forget(partition_key);
        self.written.extend(key);
        Ok(())
    }

    fn forget(&mut self, partition_key: &str) {
        if let Some(buffer) = self.buffers.remove(partition_key) {
            self.buffered_bytes -= buffer.bytes;
        }
    }
}

/// Encodes `buffer` and puts it under `partition_key`; returns the key (`None`: no rows).
fn put_buffer(
    store: &mut dyn LakeStore,
    partition_key: &str,
    buffer: &Buffer,
) -> Result<Option<String>, Error> {
    let Some(first) = buffer.rows.first() else { return Ok(None) };
    let key = format!("{partition_key}/{}.parquet", first.row_id);
    let bytes = encode(&buffer.rows).map_err(|reason| Error::Lake { key: key.clone(), reason })?;
    let size = bytes.len();
    store.put(&key, bytes)?;
    info!(key = %key, rows = buffer.rows.len(), bytes = size, "Lake file written.");
    Ok(Some(key))
}

impl<S: LakeStore> EventSink for LakeWriter<S> {
    fn accept(&mut self, event: Event) -> Result<(), Error> {
        let json = serde_json::to_string(&event.fields).map_err(|e| Error::Lake {
            key: table_name(event.log_type()),
            reason: format!("cannot serialize an event: {e}"),
        })?;
        let indicators = event.indicators;
        // What the row holds, counting each allocation's bookkeeping.
        let bytes = std::mem::size_of::<Row>()
            + json.len()
            + 32
            + 64
            + std::mem::size_of::<Indicators>()
            + indicators.heap_bytes();
        let key = partition(&table_name(&event.origin.log_type), &event.event_time);
        let buffer = self.buffers.entry(key.clone()).or_insert_with(|| Buffer {
            rows: Vec::new(),
            bytes: 0,
            opened: Instant::now(),
        });
        buffer.rows.push(Row {
            origin: event.origin,
            row_id: event.row_id,
            event_time: event.event_time,
            parse_time: event.parse_time,
            indicators,
            json,
        });
        buffer.bytes += bytes;
        self.buffered_bytes += bytes;
        let full = buffer.bytes >= self.config.max_file_bytes;
        let old = buffer.opened.elapsed() >= self.config.max_age;
        if full || old {
            self.write(&key)?;
        }
        while self.buffered_bytes > self.config.max_buffered_bytes {
            let Some(largest) =
                self.buffers.iter().max_by_key(|(_, b)| b.bytes).map(|(k, _)| k.clone())
            else {
                break;
            };
            self.write(&largest)?;
        }
        Ok(())
    }

    /// Writes every buffer; a partition that fails keeps its rows and the others are
    /// still written. Returns the first failure.
    fn flush(&mut self) -> Result<(), Error> {
        let mut keys: Vec<String> = self.buffers.keys().cloned().collect();
        keys.sort();
        let mut first_err = None;
        for key in keys {
            if let Err(err) = self.write(&key) {
                first_err.get_or_insert(err);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    fn rescue(&mut self, folder: &Path) -> Result<Vec<PathBuf>, Error> {
        let mut local = LocalLake::new(folder);
        let mut keys: Vec<String> = self.buffers.keys().cloned().collect();
        keys.sort();
        let mut files = Vec::new();
        for partition_key in keys {
            let Some(buffer) = self.buffers.get(&partition_key) else { continue };
            if let Some(key) = put_buffer(&mut local, &partition_key, buffer)? {
                files.push(folder.join(key));
            }
            self.forget(&partition_key);
        }
        Ok(files)
    }
}

fn encode(rows: &[Row]) -> Result<Vec<u8>, String> {
    let schema = schema();
    let mut log_type = StringBuilder::new();
    let mut row_id = StringBuilder::new();
    let mut event_time = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    let mut parse_time = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    let mut source_id = StringBuilder::new();
    let mut source_label = StringBuilder::new();
    let mut lists: Vec<ListBuilder<StringBuilder>> =
        (0..9).map(|_| ListBuilder::new(StringBuilder::new())).collect();
    let mut event = StringBuilder::new();
    for row in rows {
        log_type.append_value(&*row.origin.log_type);
        row_id.append_value(row.row_id.as_str());
        event_time.append_value(row.event_time.timestamp_micros());
        parse_time.append_value(row.parse_time.timestamp_micros());
        source_id.append_value(&*row.origin.source_id);
        source_label.append_value(&*row.origin.source_label);
        let mut items = row.indicators.iter().peekable();
        for (builder, field) in lists.iter_mut().zip(IndicatorField::ALL) {
            // Items are grouped by field in `IndicatorField::ALL` order (`finish` sorted them).
            while let Some((_, v)) = items.next_if(|(f, _)| *f == field) {
                builder.values().append_value(v);
            }
            builder.append(true);
        }
        event.append_value(&row.json);
    }
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(log_type.finish()),
        Arc::new(row_id.finish()),
        Arc::new(event_time.finish()),
        Arc::new(parse_time.finish()),
        Arc::new(source_id.finish()),
        Arc::new(source_label.finish()),
    ];
    columns.extend(lists.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    columns.push(Arc::new(event.finish()));
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())?;
    let level = ZstdLevel::try_new(3).map_err(|e| e.to_string())?;
    let props = WriterProperties::builder().set_compression(Compression::ZSTD(level)).build();
    let mut writer =
        ArrowWriter::try_new(Vec::new(), schema, Some(props)).map_err(|e| e.to_string())?;
    writer.write(&batch).map_err(|e| e.to_string())?;
    writer.into_inner().map_err(|e| e.to_string())
}
