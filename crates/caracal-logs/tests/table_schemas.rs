//! Every log type's lake table schema (column names and Arrow types) against its golden
//! file `tests/schemas/<table>.txt`, and the typed columns of real samples read back.
//! After a deliberate change, `CARACAL_UPDATE_SCHEMAS=1 cargo test --test table_schemas`
//! rewrites the files; review the diff.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Schema, TimeUnit};
use caracal_logs::lake::{EXTRA, Tables, table_name};
use caracal_logs::{Catalog, EventSink, LakeConfig, LakeWriter, LocalLake};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas")
}

/// One line per column: `name: type`, nested types in Arrow's notation.
fn render(schema: &Schema) -> String {
    schema.fields().iter().map(|f| format!("{}: {}\n", f.name(), f.data_type())).collect()
}

#[test]
fn every_log_type_has_its_golden_schema() {
    let catalog = Catalog::new(Vec::new()).expect("bundled schemas load");
    let tables = Tables::new(catalog.parsers());
    let layouts = tables.layouts();
    assert_eq!(layouts.len(), catalog.parsers().len());
    let update = std::env::var_os("CARACAL_UPDATE_SCHEMAS").is_some();
    let mut mismatched = Vec::new();
    for layout in &layouts {
        let path = golden_dir().join(format!("{}.txt", table_name(layout.log_type())));
        let got = render(&layout.schema());
        if update {
            std::fs::create_dir_all(golden_dir()).expect("schemas dir");
            std::fs::write(&path, &got).expect("write golden schema");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == got => {}
            Ok(_) => {
                mismatched.push(format!("{}: differs from {}", layout.log_type(), path.display()))
            }
            Err(_) => mismatched.push(format!("{}: no {}", layout.log_type(), path.display())),
        }
        // Every table ends with `extra` and has typed columns of its own.
        assert_eq!(layout.schema().fields().last().map(|f| f.name().as_str()), Some(EXTRA));
        assert!(!layout.columns().is_empty(), "{}", layout.log_type());
    }
    // No stale golden files either.
    let names: Vec<String> =
        layouts.iter().map(|l| format!("{}.txt", table_name(l.log_type()))).collect();
    for entry in std::fs::read_dir(golden_dir()).expect("schemas dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !names.contains(&name) {
            mismatched.push(format!("{name}: no such log type"));
        }
    }
    assert!(mismatched.is_empty(), "{mismatched:#?}");
}

#[test]
fn key_columns_have_their_arrow_types() {
    let tables = Tables::builtin();
    let mut tables = tables;
    let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let trail = tables.layout("AWS.CloudTrail").schema();
    assert_eq!(
        trail.field_with_name("eventTime").map(|f| f.data_type().clone()).ok(),
        Some(utc.clone())
    );
    let identity = trail.field_with_name("userIdentity").expect("userIdentity");
    let DataType::Struct(fields) = identity.data_type() else { panic!("{identity:?}") };
    assert!(fields.iter().any(|f| f.name() == "sessionContext"));
    let resources = trail.field_with_name("resources").expect("resources");
    assert!(
        matches!(resources.data_type(), DataType::List(item) if matches!(item.data_type(), DataType::Struct(_)))
    );
    let flow = tables.layout("AWS.VPCFlow").schema();
    assert_eq!(
        flow.field_with_name("srcPort").map(|f| f.data_type().clone()).ok(),
        Some(DataType::Int64)
    );
    assert_eq!(flow.field_with_name("start").map(|f| f.data_type().clone()).ok(), Some(utc));
}

fn read(root: &Path, keys: &[String], table: &str) -> Vec<RecordBatch> {
    keys.iter()
        .filter(|k| k.starts_with(&format!("{table}/")))
        .flat_map(|k| {
            let file = File::open(root.join(k)).expect("written file");
            ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("parquet")
                .build()
                .expect("reader")
        })
        .map(|b| b.expect("batch"))
        .collect()
}

#[test]
fn samples_fill_typed_columns_and_keep_the_rest_in_extra() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lake = LakeWriter::new(LocalLake::new(dir.path()), LakeConfig::default());
    for rel in [
        "AWS.CloudTrail/elastic-integrations_test-console-login-json.log",
        "AWS.VPCFlow/elastic-integrations_test-v5-all-fields.log",
    ] {
        for e in common::process_file(rel).1 {
            lake.accept(e).expect("accept");
        }
    }
    lake.flush().expect("flush");
    let keys = lake.written().to_vec();

    let trail = read(dir.path(), &keys, "aws_cloudtrail");
    let b = trail.first().expect("a CloudTrail batch");
    let names = b.column_by_name("eventName").expect("eventName").as_string::<i32>();
    assert_eq!(names.value(0), "ConsoleLogin");
    // eventTime is a timestamp column equal to the event time of every row.
    let times = b.column_by_name("eventTime").expect("eventTime");
    let times = times.as_primitive::<TimestampMicrosecondType>();
    let p_times = b.column_by_name("p_event_time").expect("p_event_time");
    let p_times = p_times.as_primitive::<TimestampMicrosecondType>();
    assert!((0..b.num_rows()).all(|r| times.value(r) == p_times.value(r)));
    let identity = b.column_by_name("userIdentity").expect("userIdentity").as_struct();
    let arn = identity.column_by_name("arn").expect("arn").as_string::<i32>();
    assert!(arn.value(0).starts_with("arn:aws:iam::"), "{}", arn.value(0));
    // The console login's additionalEventData is a declared json column; responseElements too.
    let extra = b.column_by_name(EXTRA).expect("extra").as_string::<i32>();
    for row in 0..b.num_rows() {
        if !extra.is_null(row) {
            let v: serde_json::Value =
                serde_json::from_str(extra.value(row)).expect("extra is JSON");
            assert!(v.is_object());
        }
    }

    let flow = read(dir.path(), &keys, "aws_vpcflow");
    let rows: usize = flow.iter().map(RecordBatch::num_rows).sum();
    assert!(rows > 0);
    let b = &flow[0];
    let ports = b.column_by_name("dstPort").expect("dstPort").as_primitive::<Int64Type>();
    assert!(ports.iter().flatten().any(|p| p > 0));
    // Every v5 field is declared: nothing spills into extra.
    let extra = b.column_by_name(EXTRA).expect("extra");
    assert_eq!(extra.null_count(), b.num_rows(), "{:?}", extra);
}

#[test]
fn undeclared_fields_go_to_extra() {
    use caracal_logs::{ObjectInfo, Processor, SourceInfo};
    let yaml = "name: Custom.Typed\nparser:\n  json: {}\nfields:\n  - name: time\n    type: timestamp\n    event_time: true\n  - name: count\n    type: bigint\n  - name: user.name\n    type: string\n";
    let parser = caracal_logs::CustomParser::from_yaml(yaml, "typed.yml").expect("schema");
    let lines = b"{\"time\":\"2024-01-01T00:00:00Z\",\"count\":3,\"user\":{\"name\":\"bob\"},\"other\":1}\n{\"time\":\"2024-01-01T00:10:00Z\",\"count\":4,\"user\":{\"name\":\"al\",\"id\":7}}\n";
    let mut events = Vec::new();
    let mut p = Processor::new(vec![&parser], SourceInfo::new("t", "t"));
    let object = ObjectInfo { name: "x".into(), reference_time: chrono::Utc::now() };
    p.process(&object, &lines[..], &mut events).expect("process");
    assert_eq!(events.len(), 2);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lake = LakeWriter::new(LocalLake::new(dir.path()), LakeConfig::default())
        .with_tables(Tables::new([&parser as &dyn caracal_logs::Parser]));
    for e in events {
        lake.accept(e).expect("accept");
    }
    lake.flush().expect("flush");
    let keys = lake.written().to_vec();
    let b = &read(dir.path(), &keys, "custom_typed")[0];
    let counts = b.column_by_name("count").expect("count").as_primitive::<Int64Type>();
    assert_eq!(counts.value(0), 3);
    assert_eq!(counts.value(1), 4);
    let user = b.column_by_name("user").expect("user").as_struct();
    assert_eq!(user.column_by_name("name").expect("name").as_string::<i32>().value(1), "al");
    let extra = b.column_by_name(EXTRA).expect("extra").as_string::<i32>();
    let first: serde_json::Value = serde_json::from_str(extra.value(0)).expect("json");
    assert_eq!(first, serde_json::json!({"other": 1}));
    let second: serde_json::Value = serde_json::from_str(extra.value(1)).expect("json");
    // A struct with a key the schema lacks: what fits stays typed, the whole value is kept.
    assert_eq!(second, serde_json::json!({"user": {"name": "al", "id": 7}}));
}
