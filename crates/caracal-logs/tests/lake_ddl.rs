//! The Glue / Athena DDL of a lake parses as Hive DDL (sqlglot's Hive dialect, from the
//! project venv) and names every column of every Parquet file, nested fields included.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use arrow_array::builder::{Int32Builder, ListBuilder, MapBuilder, StringBuilder, StructBuilder};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Decimal128Array, Float64Array, Int64Array, RecordBatch,
    StringArray, StructArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Fields, Schema};
use caracal_logs::glue::{self, GlueOptions};
use caracal_logs::lake_tables::{local_footer_schema, local_lake_files, local_tables};
use caracal_logs::{EventSink, LakeConfig, LakeWriter, LocalLake, PARSERS, Processor, SourceInfo};
use parquet::arrow::ArrowWriter;

/// Every bundled sample through the lake writer, plus one file with typed nested columns
/// (what typed tables per log type will write).
fn lake() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lake = LakeWriter::new(LocalLake::new(dir.path()), LakeConfig::default());
    let mut proc = Processor::new(PARSERS.to_vec(), SourceInfo::new("src", "Samples"));
    let data = common::data("");
    for entry in std::fs::read_dir(&data).expect("data dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() && !path.ends_with("malformed") {
            caracal_logs::process_path(&mut proc, &path, &mut lake).expect("samples process");
        }
    }
    lake.flush().expect("flush");
    typed_file(dir.path());
    dir
}

fn typed_file(root: &Path) {
    let dir = root.join("typed_table/year=2024/month=02/day=29/hour=23");
    std::fs::create_dir_all(&dir).expect("dir");
    let who = Fields::from(vec![
        Field::new("userName", DataType::Utf8, true),
        Field::new("mfa", DataType::Boolean, true),
    ]);
    let who_array = StructArray::new(
        who.clone(),
        vec![
            Arc::new(StringArray::from(vec!["alice"])) as ArrayRef,
            Arc::new(BooleanArray::from(vec![true])),
        ],
        None,
    );
    let resource = Fields::from(vec![Field::new("ARN", DataType::Utf8, true)]);
    let mut resources = ListBuilder::new(StructBuilder::from_fields(resource, 1));
    resources
        .values()
        .field_builder::<StringBuilder>(0)
        .expect("ARN builder")
        .append_value("arn:aws:s3:::b");
    resources.values().append(true);
    resources.append(true);
    let resources = resources.finish();
    let mut tags = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
    tags.keys().append_value("k");
    tags.values().append_value(1);
    tags.append(true).expect("map row");
    let tags = tags.finish();
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "p_event_time",
            DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("userIdentity", DataType::Struct(who), true),
        Field::new("resources", resources.data_type().clone(), true),
        Field::new("tags", tags.data_type().clone(), true),
        Field::new("bytes", DataType::Int64, true),
        Field::new("ratio", DataType::Float64, true),
        Field::new("cost", DataType::Decimal128(10, 2), true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(
                TimestampMicrosecondArray::from(vec![1_709_247_600_000_000]).with_timezone("UTC"),
            ),
            Arc::new(who_array),
            Arc::new(resources),
            Arc::new(tags),
            Arc::new(Int64Array::from(vec![5])),
            Arc::new(Float64Array::from(vec![0.5])),
            Arc::new(
                Decimal128Array::from(vec![1234]).with_precision_and_scale(10, 2).expect("decimal"),
            ),
        ],
    )
    .expect("batch");
    let file = File::create(dir.join("typed.parquet")).expect("file");
    let mut writer = ArrowWriter::try_new(file, schema, None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
}

/// Parses the DDL with sqlglot (Hive dialect) and returns, per table, the column paths
/// it declares (`parent.child` for struct fields, through arrays and maps). Fails when a
/// statement is not a `CREATE EXTERNAL TABLE` with partitions, Parquet and a location.
fn parse_with_sqlglot(ddl: &str) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    const SCRIPT: &str = r#"
import json, sys
import sqlglot
from sqlglot import exp

def paths(prefix, kind, out):
    if not isinstance(kind, exp.DataType):
        return
    for e in kind.expressions:
        if isinstance(e, exp.ColumnDef):
            name = prefix + "." + e.this.name
            out.append(name)
            paths(name, e.args.get("kind"), out)
        else:
            paths(prefix, e, out)

tables = {}
for stmt in sqlglot.parse(sys.stdin.read(), read="hive", error_level=sqlglot.ErrorLevel.RAISE):
    if stmt is None:
        continue
    assert isinstance(stmt, exp.Create), "not a CREATE: " + repr(stmt)[:200]
    props = [type(p).__name__ for p in stmt.args["properties"].expressions]
    for want in ["ExternalProperty", "PartitionedByProperty", "FileFormatProperty", "LocationProperty"]:
        assert want in props, (want, props)
    parts = [c.this.name for c in stmt.find(exp.PartitionedByProperty).this.expressions]
    assert parts == ["year", "month", "day", "hour"], parts
    assert stmt.find(exp.FileFormatProperty).this.name.upper() == "PARQUET"
    cols = []
    for col in stmt.this.expressions:
        cols.append(col.this.name)
        paths(col.this.name, col.args.get("kind"), cols)
    tables[stmt.this.this.name] = cols
print(json.dumps(tables))
"#;
    let python = caracal_testkit::venv_dir().join("bin/python");
    let mut child = Command::new(&python)
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e} (run scripts/setup)", python.display()))?;
    use std::io::Write as _;
    child.stdin.take().expect("stdin").write_all(ddl.as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let parsed: BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    Ok(parsed.into_iter().map(|(t, c)| (t, c.into_iter().collect())).collect())
}

fn options() -> GlueOptions {
    GlueOptions {
        database: "caracal".into(),
        location: "s3://lake-bucket/lake".into(),
        last_year: None,
    }
}

#[test]
fn ddl_parses_as_hive_and_names_every_column_of_every_file() {
    let dir = lake();
    let tables = local_tables(dir.path()).expect("tables");
    assert!(tables.len() >= 8, "{:?}", tables.iter().map(|t| &t.name).collect::<Vec<_>>());
    let ddl = glue::ddl(&tables, &options()).expect("ddl");
    let parsed = parse_with_sqlglot(&ddl).unwrap_or_else(|e| panic!("{e}\n{ddl}"));
    assert_eq!(
        parsed.keys().collect::<BTreeSet<_>>(),
        tables.iter().map(|t| &t.name).collect::<BTreeSet<_>>()
    );
    // Against every file's own footer, not only the merged schema.
    let mut files = 0;
    for (key, path) in local_lake_files(dir.path()).expect("files") {
        let table = key.split('/').next().expect("table");
        let footer = local_footer_schema(&path).expect("footer");
        let declared = &parsed[table];
        for column in glue::column_paths(&footer) {
            assert!(declared.contains(&column), "{key}: {column} missing from {declared:?}");
        }
        files += 1;
    }
    assert!(files >= tables.len());
    // And nothing the files do not have.
    for t in &tables {
        let want: BTreeSet<String> = glue::column_paths(&t.schema).into_iter().collect();
        assert_eq!(parsed[&t.name], want, "{}", t.name);
    }
    assert!(parsed["typed_table"].contains("resources.ARN"), "{:?}", parsed["typed_table"]);
}

#[test]
fn the_parser_check_rejects_broken_ddl() {
    let dir = lake();
    let tables = local_tables(dir.path()).expect("tables");
    let ddl = glue::ddl(&tables, &options()).expect("ddl");
    let broken = ddl.replacen("STRUCT<", "STRUCT<<", 1);
    assert!(parse_with_sqlglot(&broken).is_err(), "a broken type must not parse");
    let no_partitions = ddl.replace("PARTITIONED BY", "-- PARTITIONED BY");
    assert!(parse_with_sqlglot(&no_partitions).is_err(), "missing partitions must fail");
}

#[test]
fn cloudformation_tables_match_the_ddl_columns() {
    let dir = lake();
    let tables = local_tables(dir.path()).expect("tables");
    let resources = glue::cloudformation(&tables, &options()).expect("cfn");
    assert_eq!(resources.len(), tables.len());
    for t in &tables {
        let r = &resources[&glue::logical_id(&t.name)];
        let cols = r["Properties"]["TableInput"]["StorageDescriptor"]["Columns"]
            .as_array()
            .expect("columns");
        let names: Vec<&str> = cols.iter().filter_map(|c| c["Name"].as_str()).collect();
        let want: Vec<&str> = t.schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, want, "{}", t.name);
        assert_eq!(
            r["Properties"]["TableInput"]["StorageDescriptor"]["Location"],
            format!("s3://lake-bucket/lake/{}/", t.name)
        );
    }
}
