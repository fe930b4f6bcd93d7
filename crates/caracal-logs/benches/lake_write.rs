//! Lake write speed: normalized events into Parquet bytes, the typed tables (#18: the
//! parser's columns, nested structs and lists, `extra`) beside the layout the lake had
//! before them (the `p_` columns and the whole event as one JSON text column, rebuilt here
//! with the same builders, Parquet settings and hour partitions), on the same events in
//! the same run.
//!
//! Run (release build without the emulator kit and the SDK):
//! `RUSTFLAGS="--cfg caracal_bench" cargo bench -p caracal-logs --no-default-features --bench lake_write`
//!
//! Each prints events/s of the typed writer and of the JSON layout as the lake wrote it
//! (ZSTD level 3 with dictionaries), and the ratio (target >= 0.8x); then the JSON layout
//! at the writer's settings now (level 1, no dictionaries) for the cost of the typed layout
//! alone (all-null leaves are left uncompressed only by the writer). Fastest of 9 alternating runs, so
//! that load elsewhere on a shared machine hits all.

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::builder::{ListBuilder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use caracal_logs::indicators::Field as IndicatorField;
use caracal_logs::{
    Event, EventSink, LakeConfig, LakeStore, LakeWriter, ObjectInfo, PARSERS, Processor, SourceInfo,
};
use chrono::Utc;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

/// Keeps only the byte count.
struct Counting(usize);

impl LakeStore for Counting {
    fn put(&mut self, _key: &str, bytes: Vec<u8>) -> Result<(), caracal_logs::Error> {
        self.0 += bytes.len();
        Ok(())
    }
}

fn events(bytes: &[u8]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut p = Processor::new(PARSERS.to_vec(), SourceInfo::new("bench", "bench"));
    let object = ObjectInfo { name: "bench".into(), reference_time: Utc::now() };
    p.process(&object, bytes, &mut out).expect("a Vec sink never fails");
    out
}

/// The typed lake writer.
fn typed(events: Vec<Event>) -> usize {
    let mut lake = LakeWriter::new(Counting(0), LakeConfig::default());
    for e in events {
        lake.accept(e).expect("accept");
    }
    lake.finish().expect("finish").0
}

/// The layout before typed tables: `p_` columns and `event` as JSON text, partitioned
/// by the hour of `p_event_time` as the lake writer partitions (one file per hour, or
/// per 16 MB of rows: the writer's default `max_file_bytes`).
fn json_column(events: Vec<Event>, level: i32) -> usize {
    let mut hours: BTreeMap<i64, Vec<Event>> = BTreeMap::new();
    for e in events {
        hours.entry(e.event_time.timestamp().div_euclid(3600)).or_default().push(e);
    }
    hours.into_values().map(|events| json_partition(events, level)).sum()
}

/// The JSON layout as the lake wrote it (ZSTD level 3).
fn json_before(events: Vec<Event>) -> usize {
    json_column(events, 3)
}

/// The JSON layout at the writer's settings now (ZSTD level 1, no dictionaries).
fn json_level_1(events: Vec<Event>) -> usize {
    json_column(events, 1)
}

/// One hour's events as JSON-column files.
fn json_partition(events: Vec<Event>, level: i32) -> usize {
    let utc = || DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let list = || DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
    let mut fields = vec![
        Field::new("p_log_type", DataType::Utf8, false),
        Field::new("p_row_id", DataType::Utf8, false),
        Field::new("p_event_time", utc(), false),
        Field::new("p_parse_time", utc(), false),
        Field::new("p_source_id", DataType::Utf8, false),
        Field::new("p_source_label", DataType::Utf8, false),
    ];
    fields.extend(IndicatorField::ALL.iter().map(|f| Field::new(f.name(), list(), true)));
    fields.push(Field::new("event", DataType::Utf8, false));
    let schema = Arc::new(Schema::new(fields));
    let ts = || TimestampMicrosecondBuilder::new().with_timezone("UTC");
    let (mut log_type, mut row_id, mut source_id, mut source_label, mut event) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let (mut event_time, mut parse_time) = (ts(), ts());
    let mut indicators: Vec<ListBuilder<StringBuilder>> =
        IndicatorField::ALL.iter().map(|_| ListBuilder::new(StringBuilder::new())).collect();
    let mut scratch = Vec::new();
    let mut bytes = 0;
    let mut written = 0;
    let mut batches = Vec::new();
    let n = events.len();
    for (i, e) in events.into_iter().enumerate() {
        scratch.clear();
        serde_json::to_writer(&mut scratch, &e.fields).expect("json");
        let json = std::str::from_utf8(&scratch).expect("utf8");
        log_type.append_value(&*e.origin.log_type);
        row_id.append_value(e.row_id.as_str());
        event_time.append_value(e.event_time.timestamp_micros());
        parse_time.append_value(e.parse_time.timestamp_micros());
        source_id.append_value(&*e.origin.source_id);
        source_label.append_value(&*e.origin.source_label);
        let mut items = e.indicators.iter().peekable();
        for (builder, field) in indicators.iter_mut().zip(IndicatorField::ALL) {
            while let Some((_, v)) = items.next_if(|(f, _)| *f == field) {
                builder.values().append_value(v);
            }
            builder.append(true);
        }
        event.append_value(json);
        bytes += json.len() + 32 + 64 + e.indicators.heap_bytes() + 8 * 16;
        if bytes >= 16 << 20 || i + 1 == n {
            let mut columns: Vec<ArrayRef> = vec![
                Arc::new(log_type.finish()),
                Arc::new(row_id.finish()),
                Arc::new(event_time.finish()),
                Arc::new(parse_time.finish()),
                Arc::new(source_id.finish()),
                Arc::new(source_label.finish()),
            ];
            columns.extend(indicators.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
            columns.push(Arc::new(event.finish()));
            batches.push(RecordBatch::try_new(schema.clone(), columns).expect("batch"));
            written += encode(&schema, &batches, level).len();
            batches.clear();
            bytes = 0;
        }
    }
    written
}

/// Level 3 with dictionaries: the lake's settings before; level 1 without: the writer's now.
fn encode(schema: &Arc<Schema>, batches: &[RecordBatch], level: i32) -> Vec<u8> {
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(level).expect("level")))
        .set_dictionary_enabled(level == 3)
        .build();
    let mut writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props)).expect("writer");
    for b in batches {
        writer.write(b).expect("write");
    }
    writer.into_inner().expect("finish")
}

fn main() {
    for (name, bytes) in
        [("aws_cloudtrail", common::cloudtrail_lines()), ("aws_vpc_flow", common::vpc_flow_lines())]
    {
        let events = events(&bytes);
        let n = events.len() as f64;
        let time = |f: fn(Vec<Event>) -> usize| {
            let input = events.clone();
            let start = Instant::now();
            let size = black_box(f(input));
            (start.elapsed(), size)
        };
        let (mut t_typed, mut t_json, mut t_json1) = (Duration::MAX, Duration::MAX, Duration::MAX);
        let (mut s_typed, mut s_json, mut s_json1) = (0, 0, 0);
        for _ in 0..9 {
            let (t, s) = time(typed);
            t_typed = t_typed.min(t);
            s_typed = s;
            let (t, s) = time(json_before);
            t_json = t_json.min(t);
            s_json = s;
            let (t, s) = time(json_level_1);
            t_json1 = t_json1.min(t);
            s_json1 = s;
        }
        let rate = |t: Duration| n / t.as_secs_f64() / 1e3;
        println!(
            "{name}: {} events; typed tables {:.0} k events/s ({} KB); JSON column as before (ZSTD 3, dictionaries) {:.0} k events/s ({} KB), ratio {:.2}x; JSON column at the writer's settings (ZSTD 1, no dictionaries) {:.0} k events/s ({} KB), ratio {:.2}x (fastest of 9 alternating runs)",
            events.len(),
            rate(t_typed),
            s_typed / 1024,
            rate(t_json),
            s_json / 1024,
            t_json.as_secs_f64() / t_typed.as_secs_f64(),
            rate(t_json1),
            s_json1 / 1024,
            t_json1.as_secs_f64() / t_typed.as_secs_f64(),
        );
    }
}
