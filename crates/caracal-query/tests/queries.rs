//! `caracal query` and `caracal search` over a lake that the real writer made from the
//! bundled samples (`../shared/samples`) and the golden records of every bundled schema
//! (`crates/caracal-logs/tests/golden`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use caracal_core::event::{Event, RuleMatch};
use caracal_core::{AlertKind, Severity};
use caracal_logs::lake::Tables;
use caracal_logs::{
    Catalog, CustomParser, EventSink, LakeConfig, LakeWriter, LocalLake, ObjectInfo, Parser,
    Processor, SourceInfo,
};
use caracal_query::datafusion::arrow::array::{Array, AsArray, RecordBatch};
use caracal_query::datafusion::arrow::compute::cast;
use caracal_query::datafusion::arrow::datatypes::{DataType, Int64Type};
use caracal_query::{Bounds, Lake};
use chrono::{DateTime, TimeZone, Utc};

/// The IP the test makes appear in CloudTrail (the bundled console login), VPC Flow
/// (the bundled v5 sample) and ALB (one crafted line: no bundled ALB line has it).
const SHARED_IP: &str = "89.160.20.156";

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples")
}

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../caracal-logs/tests/golden")
}

fn process(parsers: Vec<&dyn Parser>, name: &str, bytes: &[u8]) -> Vec<Event> {
    let mut events = Vec::new();
    let mut p = Processor::new(parsers, SourceInfo::new("samples", "Samples"));
    let reference_time = Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).single().unwrap_or_default();
    let object = ObjectInfo { name: name.into(), reference_time };
    p.process(&object, bytes, &mut events).expect("a Vec sink never fails");
    events
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// An ALB access line whose client is `ip` (the bundled sample's first line, edited).
fn crafted_alb_line(ip: &str) -> String {
    let text = std::fs::read_to_string(samples().join("alb/elastic-integrations_test-alb.log"))
        .expect("bundled ALB sample");
    let line = text.lines().find(|l| l.starts_with("http")).expect("an ALB access line");
    let mut tokens: Vec<String> = line.split(' ').map(str::to_owned).collect();
    let port = tokens[3].rsplit_once(':').map_or("443", |(_, p)| p).to_owned();
    tokens[3] = format!("{ip}:{port}");
    tokens.join(" ")
}

/// Every sample event, also written to a lake under `root`.
fn build_lake(root: &Path) -> Vec<Event> {
    let catalog = Catalog::new(Vec::new()).expect("bundled schemas load");
    let mut all = Vec::new();
    for folder in ["cloudtrail", "vpcflow", "alb"] {
        for path in files(&samples().join(folder)) {
            let bytes = std::fs::read(&path).expect("sample");
            all.extend(process(catalog.parsers(), &path.display().to_string(), &bytes));
        }
    }
    all.extend(process(
        catalog.parsers(),
        "crafted-alb.log",
        crafted_alb_line(SHARED_IP).as_bytes(),
    ));
    for (_, dir) in std::fs::read_dir(golden()).expect("golden").flatten().map(|e| ((), e.path())) {
        for input in files(&dir).into_iter().filter(|p| p.file_stem().is_some_and(|s| s == "input"))
        {
            let bytes = std::fs::read(&input).expect("golden input");
            all.extend(process(catalog.parsers(), &input.display().to_string(), &bytes));
        }
    }
    let mut lake = LakeWriter::new(LocalLake::new(root), LakeConfig::default());
    for e in &all {
        lake.accept(e.clone()).expect("lake takes every event");
    }
    lake.flush().expect("flush");
    all
}

fn strings(batch: &RecordBatch, i: usize) -> Vec<String> {
    let c = cast(batch.column(i), &DataType::Utf8).expect("text");
    let c = c.as_string::<i32>();
    (0..c.len()).map(|r| c.value(r).to_owned()).collect()
}

fn ints(batch: &RecordBatch, i: usize) -> Vec<i64> {
    let c = cast(batch.column(i), &DataType::Int64).expect("int");
    c.as_primitive::<Int64Type>().values().to_vec()
}

fn field(e: &Event, name: &str) -> Option<String> {
    e.fields.get(name).and_then(|v| v.as_str().map(str::to_owned))
}

#[tokio::test]
async fn counts_per_event_name_match_the_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = build_lake(dir.path());
    let mut want: BTreeMap<String, i64> = BTreeMap::new();
    for e in events.iter().filter(|e| e.log_type() == "AWS.CloudTrail") {
        *want.entry(field(e, "eventName").unwrap_or_default()).or_default() += 1;
    }
    assert!(want.len() > 10, "{want:?}");
    let lake = Lake::open(dir.path(), Bounds::default()).await.expect("open");
    assert!(lake.log_tables().iter().any(|t| t == "aws_cloudtrail"), "{:?}", lake.log_tables());
    let batches = lake
        .sql("SELECT eventName, count(*) AS n FROM aws_cloudtrail GROUP BY eventName")
        .await
        .expect("query");
    let mut got = BTreeMap::new();
    for b in &batches {
        for (name, n) in strings(b, 0).into_iter().zip(ints(b, 1)) {
            got.insert(name, n);
        }
    }
    assert_eq!(got, want);

    let total = lake.sql("SELECT count(*) FROM all_logs").await.expect("all_logs");
    assert_eq!(ints(&total[0], 0), vec![events.len() as i64]);
}

#[tokio::test]
async fn cloudtrail_joins_vpc_flow_on_an_ip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = build_lake(dir.path());
    let flows: Vec<&Event> = events
        .iter()
        .filter(|e| {
            e.log_type() == "AWS.VPCFlow" && field(e, "srcAddr").as_deref() == Some(SHARED_IP)
        })
        .collect();
    let trails: Vec<&Event> = events
        .iter()
        .filter(|e| e.log_type() == "AWS.CloudTrail")
        .filter(|e| field(e, "sourceIPAddress").as_deref() == Some(SHARED_IP))
        .collect();
    assert!(!flows.is_empty() && !trails.is_empty());
    let lake = Lake::open(dir.path(), Bounds::default()).await.expect("open");
    let batches = lake
        .sql(
            "SELECT c.eventName, c.userIdentity.arn AS arn, v.dstAddr, v.dstPort \
             FROM aws_cloudtrail c JOIN aws_vpcflow v ON c.sourceIPAddress = v.srcAddr \
             ORDER BY v.dstPort",
        )
        .await
        .expect("join");
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, flows.len() * trails.len());
    assert!(strings(&batches[0], 0).iter().all(|n| n == "ConsoleLogin"));
    assert!(strings(&batches[0], 1)[0].starts_with("arn:aws:iam::"));
}

/// The hour folder of `t` in `table`.
fn hour_folder(root: &Path, table: &str, t: DateTime<Utc>) -> PathBuf {
    root.join(caracal_logs::lake::partition(table, &t))
}

#[tokio::test]
async fn a_time_filtered_query_opens_only_its_hours_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = build_lake(dir.path());
    let hour = Utc.with_ymd_and_hms(2014, 7, 16, 15, 0, 0).single().expect("time");
    let in_hour = events
        .iter()
        .filter(|e| e.log_type() == "AWS.CloudTrail")
        .filter(|e| e.event_time >= hour && e.event_time < hour + chrono::Duration::hours(1))
        .count();
    assert!(in_hour > 0);
    let hour_files = files(&hour_folder(dir.path(), "aws_cloudtrail", hour));
    let all_files = walk(&dir.path().join("aws_cloudtrail"));
    assert!(all_files.len() > hour_files.len() + 5, "{} files", all_files.len());

    let lake = Lake::open(dir.path(), Bounds::default()).await.expect("open");
    let sql = "SELECT count(*) FROM aws_cloudtrail \
               WHERE p_event_time >= '2014-07-16T15:00:00Z' AND p_event_time < '2014-07-16T16:00:00Z'";
    let plan = lake.physical_plan(sql).await.expect("plan");
    let opened = plan.matches(".parquet").count();
    assert_eq!(opened, hour_files.len(), "{plan}");
    for f in &hour_files {
        let name = f.file_name().and_then(|n| n.to_str()).expect("name");
        assert!(plan.contains(name), "{name} not in {plan}");
    }
    assert!(!plan.contains("hour=14") && !plan.contains("hour=16"), "{plan}");
    let count = lake.sql(sql).await.expect("count");
    assert_eq!(ints(&count[0], 0), vec![in_hour as i64]);

    // The same pruning from --since/--until, with the rows outside the window dropped.
    let window = Bounds::new(Some(hour), Some(hour + chrono::Duration::minutes(59)));
    let lake = Lake::open(dir.path(), window).await.expect("open");
    let plan = lake.physical_plan("SELECT count(*) FROM aws_cloudtrail").await.expect("plan");
    assert_eq!(plan.matches(".parquet").count(), hour_files.len(), "{plan}");
    let count = lake.sql("SELECT count(*) FROM aws_cloudtrail").await.expect("count");
    assert_eq!(ints(&count[0], 0), vec![in_hour as i64]);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|x| x == "parquet") {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn search_finds_one_ip_in_cloudtrail_vpc_flow_and_alb() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = build_lake(dir.path());
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for e in &events {
        if e.indicators.get(caracal_core::event::indicators::Field::IpAddress).contains(&SHARED_IP)
        {
            *want.entry(e.log_type().to_owned()).or_default() += 1;
        }
    }
    for t in ["AWS.CloudTrail", "AWS.VPCFlow", "AWS.ALB"] {
        assert!(want.contains_key(t), "{t} lacks {SHARED_IP}: {want:?}");
    }
    let lake = Lake::open(dir.path(), Bounds::default()).await.expect("open");
    let found = caracal_query::search(&lake, SHARED_IP, 100).await.expect("search");
    assert_eq!(found.counts, want);
    let total: u64 = want.values().sum();
    assert_eq!(found.hits.len() as u64, total);
    assert!(found.hits.windows(2).all(|w| w[0].event_time <= w[1].event_time));
    // Each hit names its log type and time: the first CloudTrail hit is the earliest
    // CloudTrail event from the IP (a console login in July 2014).
    let trail = found.hits.iter().find(|h| h.log_type == "AWS.CloudTrail").expect("trail hit");
    let earliest = events
        .iter()
        .filter(|e| e.log_type() == "AWS.CloudTrail")
        .filter(|e| field(e, "sourceIPAddress").as_deref() == Some(SHARED_IP))
        .map(|e| e.event_time)
        .min()
        .expect("a CloudTrail event from the IP");
    assert_eq!(trail.event_time, earliest);
    assert_eq!(earliest.format("%Y-%m").to_string(), "2014-07");

    // An address no sample holds (checked with grep over shared/samples).
    let none = caracal_query::search(&lake, "192.0.2.254", 10).await.expect("search");
    assert!(none.counts.is_empty() && none.hits.is_empty(), "{:?}", none.counts);
}

fn custom(yaml: &str) -> CustomParser {
    CustomParser::from_yaml(yaml, "test.yml").expect("schema")
}

#[tokio::test]
async fn files_written_before_a_new_field_still_read_in_the_same_query() {
    let v1 = custom(
        "name: Custom.Evolve\nparser:\n  json: {}\nfields:\n  - name: time\n    type: timestamp\n    event_time: true\n  - name: message\n",
    );
    let v2 = custom(
        "name: Custom.Evolve\nparser:\n  json: {}\nfields:\n  - name: time\n    type: timestamp\n    event_time: true\n  - name: message\n  - name: level\n    type: bigint\n",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let old = b"{\"time\":\"2024-01-01T01:00:00Z\",\"message\":\"old\",\"level\":3}\n";
    let new = b"{\"time\":\"2024-01-01T02:00:00Z\",\"message\":\"new\",\"level\":5}\n";
    for (parser, bytes) in [(&v1, &old[..]), (&v2, &new[..])] {
        let mut lake = LakeWriter::new(LocalLake::new(dir.path()), LakeConfig::default())
            .with_tables(Tables::new([parser as &dyn Parser]));
        for e in process(vec![parser], "x", bytes) {
            lake.accept(e).expect("accept");
        }
        lake.flush().expect("flush");
    }
    let lake = Lake::open(dir.path(), Bounds::default()).await.expect("open");
    let batches = lake
        .sql("SELECT message, level, extra FROM custom_evolve ORDER BY p_event_time")
        .await
        .expect("query over both files");
    let b =
        caracal_query::datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches)
            .expect("concat");
    assert_eq!(strings(&b, 0), vec!["old", "new"]);
    let level = cast(b.column(1), &DataType::Int64).expect("int");
    assert!(level.is_null(0));
    assert_eq!(level.as_primitive::<Int64Type>().value(1), 5);
    // The old file kept the then-undeclared field in extra.
    assert_eq!(strings(&b, 2)[0], "{\"level\":3}");
}

#[tokio::test]
async fn match_tables_are_queryable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let catalog = Catalog::new(Vec::new()).expect("catalog");
    let bytes = std::fs::read(
        samples().join("cloudtrail/elastic-integrations_test-console-login-json.log"),
    )
    .expect("sample");
    let events = process(catalog.parsers(), "login", &bytes);
    let mut lake = LakeWriter::new(LocalLake::new(dir.path()), LakeConfig::default());
    let m = RuleMatch {
        event: 0,
        rule_id: "Console.Login".into(),
        kind: AlertKind::Rule,
        alert_id: "alert-1".into(),
        alert_created_at: Some(events[0].event_time),
        severity: Severity::High,
        error: None,
    };
    lake.accept_match(&events[0], &m).expect("match row");
    lake.flush().expect("flush");
    let lake = Lake::open(dir.path(), Bounds::default()).await.expect("open");
    assert_eq!(lake.match_tables(), ["rule_matches"]);
    let batches = lake
        .sql("SELECT p_rule_id, p_alert_id, p_log_type FROM rule_matches")
        .await
        .expect("query");
    assert_eq!(strings(&batches[0], 0), vec!["Console.Login"]);
    assert_eq!(strings(&batches[0], 2), vec!["AWS.CloudTrail"]);
}

/// A lake written before `p_any_sha1_hashes` existed (its files lack the column) still
/// opens, answers `all_logs` and is searched, the missing column reading as nulls.
#[tokio::test]
async fn a_lake_written_before_an_indicator_column_existed_still_opens_and_searches() {
    use caracal_query::datafusion::parquet::arrow::ArrowWriter;
    use caracal_query::datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let dir = tempfile::tempdir().expect("tempdir");
    build_lake(dir.path());
    let mut rewritten = 0;
    for path in walk(dir.path()) {
        let file = std::fs::File::open(&path).expect("open file");
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(file).expect("reader").build().expect("build");
        let batches: Vec<RecordBatch> = reader.map(|b| b.expect("batch")).collect();
        let Some(first) = batches.first() else { continue };
        let Ok(at) = first.schema().index_of("p_any_sha1_hashes") else { continue };
        let keep: Vec<usize> = (0..first.num_columns()).filter(|i| *i != at).collect();
        let out = std::fs::File::create(&path).expect("rewrite");
        let schema = Arc::new(first.schema().project(&keep).expect("project"));
        let mut writer = ArrowWriter::try_new(out, schema, None).expect("writer");
        for b in &batches {
            writer.write(&b.project(&keep).expect("project")).expect("write");
        }
        writer.close().expect("close");
        rewritten += 1;
    }
    assert!(rewritten > 10, "{rewritten} files rewritten");
    let lake =
        Lake::open(dir.path(), Bounds::default()).await.expect("a lake without the column opens");
    let found = caracal_query::search(&lake, SHARED_IP, 10).await.expect("search");
    assert!(found.counts.contains_key("AWS.CloudTrail"), "{:?}", found.counts);
    let batches = lake
        .sql("SELECT count(*) FROM all_logs WHERE p_any_sha1_hashes IS NOT NULL")
        .await
        .expect("all_logs has the column");
    assert_eq!(ints(&batches[0], 0), vec![0]);
}
