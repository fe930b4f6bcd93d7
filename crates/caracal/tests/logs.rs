//! End to end: `caracal logs process` turns real samples into Parquet partitions, and
//! counts and names every record it could not parse.

use aws_sdk_sqs::types::QueueAttributeName;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn caracal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_caracal"))
        .args(args)
        .env_remove("CARACAL_CONFIG")
        .output()
        .expect("the binary runs")
}

/// Runs the binary against the emulator at `endpoint` with test credentials.
fn caracal_against(endpoint: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_caracal"))
        .args(args)
        .env_remove("CARACAL_CONFIG")
        .env_remove("AWS_PROFILE")
        .envs([
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
        ])
        .output()
        .expect("the binary runs")
}

fn samples(log_type: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../caracal-logs/tests/data").join(log_type)
}

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(parquet_files(&path));
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    out
}

#[test]
fn cloudtrail_samples_become_partitioned_parquet_with_no_errors() {
    let lake = tempfile::tempdir().unwrap();
    let out = caracal(&[
        "logs",
        "process",
        samples("AWS.CloudTrail").to_str().unwrap(),
        "--lake",
        lake.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let row = stdout.lines().find(|l| l.starts_with("AWS.CloudTrail")).expect("a CloudTrail row");
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[1], cols[2], "records == events: {row}");
    assert_eq!(cols[3], "0", "no errors: {row}");
    let files = parquet_files(lake.path());
    assert!(!files.is_empty(), "parquet written");
    assert!(
        files
            .iter()
            .all(|f| f.to_string_lossy().contains("/year=")
                && f.to_string_lossy().contains("/hour=")),
        "Hive partitions: {files:?}"
    );
}

#[test]
fn logs_types_lists_native_bundled_and_user_types_with_their_source() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("custom.yml");
    std::fs::write(
        &schema,
        "name: Custom.App\nparser: { json: {} }\nmatch: [{ field: app }]\nfields: [{ name: app }]\n",
    )
    .unwrap();
    let out = caracal(&["logs", "types", "--schema", schema.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let source = |name: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .map(|l| l[name.len()..].trim().to_owned())
    };
    assert_eq!(source("AWS.CloudTrail").as_deref(), Some("native"));
    assert_eq!(source("Zeek.DNS").as_deref(), Some("bundled schema"));
    assert_eq!(source("Custom.App").as_deref(), Some("user schema"));
    let total: usize = stdout
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(total >= 46, "{stdout}");

    // A bundled type read from a golden file through the binary, with no --schema.
    let zeek = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../caracal-logs/tests/golden/Zeek.DNS/input.log");
    let out = caracal(&["logs", "process", zeek.to_str().unwrap(), "--no-rules"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.lines().any(|l| l.starts_with("Zeek.DNS ") && l.contains(" 3 ")), "{stdout}");

    // Records no type claims are counted per source.
    let other = dir.path().join("other.json");
    std::fs::write(&other, "{\"user\":\"x\",\"score\":3}\n").unwrap();
    let out = caracal(&[
        "logs",
        "process",
        other.to_str().unwrap(),
        "--no-rules",
        "--source-id",
        "app-logs",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("unclassified records by source: app-logs: 1"), "{stdout}");
}

#[test]
fn malformed_lines_are_counted_named_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flow.log");
    std::fs::write(
        &file,
        "2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 49152 6 10 840 1600000000 1600000060 ACCEPT OK\n\
         this is not a flow log line\n",
    )
    .unwrap();
    let out = caracal(&["logs", "process", file.to_str().unwrap(), "--log-type", "AWS.VPCFlow"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let total = stdout.lines().find(|l| l.starts_with("TOTAL")).expect("a total row");
    let cols: Vec<&str> = total.split_whitespace().collect();
    assert_eq!(&cols[1..4], ["2", "1", "1"], "records, events, errors: {total}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{}:2:", file.display())), "names file and line: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "no colour codes when stderr is not a terminal");
}

#[tokio::test]
async fn lake_can_be_an_s3_prefix() {
    let emulator = caracal_testkit::Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    let session = aws.session(None, caracal_aws::Purpose::Scan).await.unwrap();
    let s3 = session.home().s3();
    s3.create_bucket().bucket("lake").send().await.unwrap();
    let vpc = samples("AWS.VPCFlow");
    let out = caracal_against(
        &emulator.endpoint(),
        &["logs", "process", vpc.to_str().unwrap(), "--lake", "s3://lake/security"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed = s3.list_objects_v2().bucket("lake").prefix("security/").send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert!(!keys.is_empty(), "objects written");
    assert!(
        keys.iter().all(|k| k.contains("/year=") && k.ends_with(".parquet")),
        "Hive-partitioned Parquet keys: {keys:?}"
    );

    // #18: the S3 lake answers the same SQL and search as a local lake of the same files.
    let local = tempfile::tempdir().unwrap();
    let local_lake = local.path().join("lake");
    let out = caracal(&[
        "logs",
        "process",
        vpc.to_str().unwrap(),
        "--lake",
        local_lake.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sql = "SELECT action, count(*) AS n, count(DISTINCT srcAddr) AS sources FROM aws_vpcflow \
               GROUP BY action ORDER BY action";
    let query = |lake: &str| {
        let out = caracal_against(
            &emulator.endpoint(),
            &["query", sql, "--lake", lake, "--format", "json"],
        );
        assert!(out.status.success(), "{lake}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let from_s3 = query("s3://lake/security");
    assert!(from_s3.contains("\"action\":\"ACCEPT\""), "{from_s3}");
    assert_eq!(from_s3, query(local_lake.to_str().unwrap()));
    // Partition pruning holds on S3 too: a window before every event plans no object,
    // the whole table plans them all.
    let plan = |sql: &str| {
        let out = caracal_against(
            &emulator.endpoint(),
            &["query", sql, "--lake", "s3://lake/security", "--plan"],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let none = plan("SELECT count(*) FROM aws_vpcflow WHERE p_event_time < '1971-01-01T00:00:00Z'");
    assert!(!none.contains(".parquet") && none.contains("EmptyExec"), "{none}");
    let all = plan("SELECT count(*) FROM aws_vpcflow");
    assert!(all.contains(".parquet") && !all.contains("EmptyExec"), "{all}");
    let found = caracal_against(
        &emulator.endpoint(),
        &[
            "search",
            "--lake",
            "s3://lake/security",
            "--json",
            first_vpc_address(&local_lake).as_str(),
        ],
    );
    let found: serde_json::Value = serde_json::from_slice(&found.stdout).expect("search JSON");
    assert!(found["counts"]["AWS.VPCFlow"].as_u64() >= Some(1), "{found}");
}

/// A source address of the local VPC Flow lake, read back through `caracal query`.
fn first_vpc_address(lake: &Path) -> String {
    let out = caracal(&[
        "query",
        "SELECT srcAddr FROM aws_vpcflow WHERE srcAddr IS NOT NULL ORDER BY srcAddr LIMIT 1",
        "--lake",
        lake.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().nth(1).expect("one address").trim().to_owned()
}

#[tokio::test]
async fn events_the_lake_refuses_are_kept_in_a_rescue_folder() {
    let emulator = caracal_testkit::Emulator::start().unwrap();
    let rescue = tempfile::tempdir().unwrap();
    let vpc = samples("AWS.VPCFlow");
    let out = caracal_against(
        &emulator.endpoint(),
        &[
            "logs",
            "process",
            vpc.to_str().unwrap(),
            "--lake",
            "s3://no-such-bucket/security",
            "--rescue-dir",
            rescue.path().to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the lake write failed: {stderr}");
    assert!(stderr.contains("NoSuchBucket"), "the cause is named: {stderr}");
    assert!(stderr.contains(&rescue.path().display().to_string()), "{stderr}");
    let files = parquet_files(rescue.path());
    assert!(!files.is_empty(), "buffered events kept as Parquet: {stderr}");
    assert!(files.iter().all(|f| f.to_string_lossy().contains("aws_vpcflow/year=")));

    // The same input into a local lake gives as many rows as were rescued.
    let rows = |files: &[PathBuf]| -> usize {
        files
            .iter()
            .map(|f| {
                let file = std::fs::File::open(f).unwrap();
                let reader =
                    parquet::file::reader::SerializedFileReader::new(file).expect("parquet file");
                use parquet::file::reader::FileReader;
                reader.metadata().file_metadata().num_rows() as usize
            })
            .sum()
    };
    let lake = tempfile::tempdir().unwrap();
    let ok = caracal(&[
        "logs",
        "process",
        samples("AWS.VPCFlow").to_str().unwrap(),
        "--lake",
        lake.path().to_str().unwrap(),
    ]);
    assert!(ok.status.success());
    assert_eq!(rows(&files), rows(&parquet_files(lake.path())), "nothing is lost");
}

/// Runs the binary with its state in `db` and `config`.
fn caracal_with(db: &Path, config: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_caracal"));
    cmd.args(args).env_remove("CARACAL_CONFIG").env("CARACAL_DB", db);
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    cmd.output().expect("the binary runs")
}

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn alerts_json(db: &Path) -> Vec<serde_json::Value> {
    let out = caracal_with(db, None, &["alerts", "list", "--json", "--limit", "500"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).expect("alerts as JSON")
}

#[test]
fn rules_run_on_processed_logs_and_a_second_run_adds_to_the_same_alerts() {
    // #12: `logs process` runs the bundled rules, stores and prints the alerts it opened;
    // inside the dedup window a second run over the same files grows them, no new ones.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("caracal.db");
    let (archive, config) = (dir.path().join("alerts.jsonl"), dir.path().join("caracal.toml"));
    std::fs::write(
        &config,
        format!("[[destinations]]\nid = \"archive\"\nkind = \"file\"\npath = {:?}\n", archive),
    )
    .unwrap();
    let trail = samples("AWS.CloudTrail");
    let rules = repo("rules");
    let args = ["logs", "process", trail.to_str().unwrap(), "--rules", rules.to_str().unwrap()];

    let first = caracal_with(&db, Some(&config), &args);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&first.stderr));
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("opened") && l.contains("AWS.CloudTrail.LoggingStopped")),
        "prints the alerts it opened:\n{stdout}"
    );
    let opened = alerts_json(&db);
    assert!(!opened.is_empty());
    let delivered = std::fs::read_to_string(&archive).expect("the file destination got alerts");
    let rule_alerts = opened.iter().filter(|a| a["kind"] == "rule").count();
    assert_eq!(
        delivered.lines().count(),
        rule_alerts + opened.iter().filter(|a| a["kind"] == "rule_error").count()
    );

    let second = caracal_with(&db, Some(&config), &args);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success(), "{stdout}");
    let again = alerts_json(&db);
    // No new alert inside the window, except where a `Threshold` was only now reached.
    let new: Vec<_> = again.iter().filter(|a| !opened.iter().any(|o| o["id"] == a["id"])).collect();
    assert!(
        new.iter().all(|a| a["rule_id"] == "AWS.CloudTrail.UnauthorizedAPICall"),
        "{new:#?}\n{stdout}"
    );
    // Every match of the first run counted again into the same alerts.
    let count = |alerts: &[serde_json::Value]| -> u64 {
        alerts
            .iter()
            .filter(|a| opened.iter().any(|o| o["id"] == a["id"]))
            .map(|a| a["event_count"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(count(&again), 2 * count(&opened), "counts grow, no alert lost");
    // Each alert was delivered once, not once per run.
    assert_eq!(
        std::fs::read_to_string(&archive).unwrap().lines().count(),
        delivered.lines().count()
    );
}

/// A rule `id` with `Threshold: 5` and a day's dedup window whose module is `py`, and
/// a CloudTrail file of `events` S3 reads one second apart (`eventID` `e0`, `e1`, ...).
struct ThresholdFixture {
    rules: PathBuf,
    logs: PathBuf,
    lake: PathBuf,
}

impl ThresholdFixture {
    fn new(dir: &Path, id: &str, py: &str, events: usize) -> Self {
        let rules = dir.join("rules");
        std::fs::create_dir(&rules).unwrap();
        std::fs::write(
            rules.join("every.yml"),
            format!(
                "AnalysisType: rule\nRuleID: {id}\nFilename: every.py\nEnabled: true\n\
                 LogTypes:\n  - AWS.CloudTrail\nSeverity: Low\nThreshold: 5\nDedupPeriodMinutes: 1440\n"
            ),
        )
        .unwrap();
        std::fs::write(rules.join("every.py"), py).unwrap();
        let records: Vec<String> = (0..events)
            .map(|i| format!(
                r#"{{"eventVersion":"1.08","eventTime":"2024-07-31T12:00:{i:02}Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.{i}","userIdentity":{{"type":"IAMUser","accountId":"111122223333"}},"recipientAccountId":"111122223333","eventID":"e{i}","eventType":"AwsApiCall"}}"#
            ))
            .collect();
        let logs = dir.join("trail.json");
        std::fs::write(&logs, format!("{{\"Records\":[{}]}}", records.join(","))).unwrap();
        Self { rules, logs, lake: dir.join("lake") }
    }

    /// `logs process` of the file with the rule, into the lake.
    fn args(&self) -> [&str; 7] {
        [
            "logs",
            "process",
            self.logs.to_str().unwrap(),
            "--rules",
            self.rules.to_str().unwrap(),
            "--lake",
            self.lake.to_str().unwrap(),
        ]
    }
}

#[test]
fn a_threshold_of_five_opens_the_alert_at_the_fifth_match() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("caracal.db");
    // Four CloudTrail records in one file, all within one minute.
    let fixture = ThresholdFixture::new(
        dir.path(),
        "Test.Every",
        "def rule(e):\n    return True\n\ndef dedup(e):\n    return 'all'\n",
        4,
    );
    let (lake, args) = (&fixture.lake, fixture.args());
    let first = caracal_with(&db, None, &args);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&first.stderr));
    assert!(stdout.contains("4 matches below threshold"), "{stdout}");
    assert!(alerts_json(&db).is_empty(), "four matches open nothing");

    let second = caracal_with(&db, None, &args);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(stdout.contains("alerts: 1 opened"), "the fifth match opens it:\n{stdout}");
    let alerts = alerts_json(&db);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["event_count"], 8, "and the later matches add to it");
    assert_eq!(alerts[0]["rule_id"], "Test.Every");

    // Every event behind the alert is in the lake's match table, the four counted before
    // the alert existed included (without a creation time).
    let id = alerts[0]["id"].as_str().unwrap();
    let out = caracal_with(
        &db,
        None,
        &["alerts", "events", id, "--lake", lake.to_str().unwrap(), "--json"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON event per line"))
        .collect();
    assert_eq!(events.len(), 8, "{events:#?}");
    for event in &events {
        assert_eq!(event["p_alert_id"], id);
        assert_eq!(event["p_rule_id"], "Test.Every");
        assert_eq!(event["p_rule_severity"], "LOW");
        assert_eq!(event["p_log_type"], "AWS.CloudTrail");
        assert_eq!(event["eventName"], "GetObject", "the event's own fields");
    }
    let created = events.iter().filter(|e| e["p_alert_creation_time"].is_string()).count();
    assert_eq!(created, 4, "the second run's matches carry the alert's creation time");
    let missing =
        caracal_with(&db, None, &["alerts", "events", "nope", "--lake", lake.to_str().unwrap()]);
    assert!(!missing.status.success());
}

#[test]
fn batches_on_parallel_worker_lanes_count_matches_in_event_order() {
    // #12: with rules in worker processes (the binary's default) batches are evaluated
    // two at a time; alert windows must still take them in order. Batches of one event
    // make twelve batches: the alert opens at the fifth match, and exactly the events
    // from the fifth on carry its creation time.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("caracal.db");
    // Uneven work per event, so that lanes finish out of order.
    let fixture = ThresholdFixture::new(
        dir.path(),
        "Test.Ordered",
        "import time\n\ndef rule(e):\n    time.sleep(0.02 if int(e.get('eventID')[1:]) % 2 else 0)\n    \
         return True\n\ndef dedup(e):\n    return 'all'\n",
        12,
    );
    let config = dir.path().join("caracal.toml");
    std::fs::write(&config, "[rules]\nbatch_size = 1\n").unwrap();
    let (lake, args) = (&fixture.lake, fixture.args());
    let out = caracal_with(&db, Some(&config), &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("alerts: 1 opened"), "{stdout}");
    let alerts = alerts_json(&db);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["event_count"], 12);
    let id = alerts[0]["id"].as_str().unwrap();
    let out = caracal_with(
        &db,
        None,
        &["alerts", "events", id, "--lake", lake.to_str().unwrap(), "--json"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut created: Vec<(u32, bool)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("one JSON event per line"))
        .map(|e| {
            let n = e["eventID"].as_str().unwrap()[1..].parse().unwrap();
            (n, e["p_alert_creation_time"].is_string())
        })
        .collect();
    created.sort();
    let expected: Vec<(u32, bool)> = (0..12).map(|i| (i, i >= 4)).collect();
    assert_eq!(created, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_runs_rules_and_delivers_alerts_to_real_receivers() {
    // #12: objects land in S3, notifications on SQS; `logs poll` parses, runs the rules,
    // stores alerts and delivers them to a signed webhook, a Slack-shaped and a
    // PagerDuty-shaped receiver on 127.0.0.1.
    let emulator = caracal_testkit::Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    let clients = aws.session(None, caracal_aws::Purpose::Scan).await.unwrap().home();
    let (s3, sqs) = (clients.s3(), clients.sqs());
    s3.create_bucket().bucket("logs").send().await.unwrap();
    let queue = sqs.create_queue().queue_name("notes").send().await.unwrap();
    let queue_url = queue.queue_url().unwrap().to_owned();
    let sample = std::fs::read(
        samples("AWS.CloudTrail").join("stratus_aws.defense-evasion.cloudtrail-stop.json"),
    )
    .or_else(|_| std::fs::read(first_sample_with("StopLogging")))
    .unwrap();
    let body = format!("{{\"Records\":{}}}", String::from_utf8_lossy(&sample));
    s3.put_object()
        .bucket("logs")
        .key("AWSLogs/trail.json")
        .body(body.into_bytes().into())
        .send()
        .await
        .unwrap();
    let note = serde_json::json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "logs"}, "object": {"key": "AWSLogs/trail.json"}}}]});
    sqs.send_message().queue_url(&queue_url).message_body(note.to_string()).send().await.unwrap();

    let hook = caracal_testkit::Receiver::start().await.unwrap();
    let slack = caracal_testkit::Receiver::start().await.unwrap();
    let pager = caracal_testkit::Receiver::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("caracal.toml");
    std::fs::write(
        &config,
        format!(
            "[[destinations]]\nid = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\nsecret = \"env:TEST_HOOK_KEY\"\n\n\
             [[destinations]]\nid = \"slack\"\nkind = \"slack\"\nurl = \"{}\"\n\n\
             [[destinations]]\nid = \"pager\"\nkind = \"pagerduty\"\nurl = \"{}\"\nrouting_key = \"env:TEST_PD_KEY\"\nmin_severity = \"High\"\n",
            hook.url("/hook"),
            slack.url("/services/T/B/x"),
            pager.url("/v2/enqueue")
        ),
    )
    .unwrap();
    let rules = repo("rules");
    let (endpoint, db) = (emulator.endpoint(), dir.path().join("caracal.db"));
    let args: Vec<String> = [
        "--config",
        config.to_str().unwrap(),
        "logs",
        "poll",
        "--queue",
        &queue_url,
        "--once",
        "--rules",
        rules.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_caracal"))
            .args(&args)
            .env_remove("CARACAL_CONFIG")
            .env_remove("AWS_PROFILE")
            .envs([
                ("AWS_ENDPOINT_URL", endpoint.as_str()),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
                ("AWS_REGION", "us-east-1"),
                ("TEST_HOOK_KEY", "k3y"),
                ("TEST_PD_KEY", "pd-routing-key"),
            ])
            .env("CARACAL_DB", &db)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("messages: 1 deleted"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("opened") && l.contains("AWS.CloudTrail.LoggingStopped")),
        "{stdout}"
    );
    assert!(
        !stderr.contains("k3y") && !stderr.contains("pd-routing-key"),
        "no secret in logs: {stderr}"
    );

    let got = hook.received();
    let stop = got
        .iter()
        .find(|r| r.json()["rule_id"] == "AWS.CloudTrail.LoggingStopped")
        .expect("webhook got it");
    assert_eq!(
        stop.header("x-caracal-signature").unwrap(),
        caracal_detect::destinations::signature(b"k3y", &stop.body),
        "signed with the configured key"
    );
    assert!(slack.received().iter().any(|r| r.path == "/services/T/B/x"
        && r.json()["text"].as_str().is_some_and(|t| t.contains("HIGH"))));
    let pd = pager.received();
    assert!(!pd.is_empty(), "the high-severity alert paged");
    assert!(
        pd.iter().all(|r| r.json()["routing_key"] == "pd-routing-key"
            && r.json()["event_action"] == "trigger")
    );
}

/// The first CloudTrail sample whose text mentions `needle`.
fn first_sample_with(needle: &str) -> PathBuf {
    let mut files: Vec<_> =
        std::fs::read_dir(samples("AWS.CloudTrail")).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    files
        .into_iter()
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(needle)))
        .expect("a sample with the event")
}

/// Two `caracal logs poll` processes drain one queue into one store at the same time:
/// every event of every object counts into the one alert of its dedup key and window.
async fn two_pollers_share_one_alert(store_env: &[(&str, String)]) {
    let emulator = caracal_testkit::Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    let clients = aws.session(None, caracal_aws::Purpose::Scan).await.unwrap().home();
    let (s3, sqs) = (clients.s3(), clients.sqs());
    s3.create_bucket().bucket("logs").send().await.unwrap();
    let queue_url = sqs
        .create_queue()
        .queue_name("notes")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    const OBJECTS: usize = 12;
    const PER_OBJECT: usize = 5;
    for o in 0..OBJECTS {
        let records: Vec<String> = (0..PER_OBJECT)
            .map(|i| format!(
                r#"{{"eventVersion":"1.08","eventTime":"2024-07-31T12:00:{i:02}Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.{i}","userIdentity":{{"type":"IAMUser","accountId":"111122223333"}},"recipientAccountId":"111122223333","eventID":"o{o}e{i}","eventType":"AwsApiCall"}}"#
            ))
            .collect();
        let key = format!("AWSLogs/{o}.json");
        let body = format!("{{\"Records\":[{}]}}", records.join(","));
        s3.put_object()
            .bucket("logs")
            .key(&key)
            .body(body.into_bytes().into())
            .send()
            .await
            .unwrap();
        let note = serde_json::json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "logs"}, "object": {"key": key}}}]});
        sqs.send_message()
            .queue_url(&queue_url)
            .message_body(note.to_string())
            .send()
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("every.yml"),
        "AnalysisType: rule\nRuleID: Test.Every\nFilename: every.py\nEnabled: true\n\
         LogTypes:\n  - AWS.CloudTrail\nSeverity: Low\nDedupPeriodMinutes: 1440\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("every.py"),
        "def rule(e):\n    return True\n\ndef dedup(e):\n    return 'all'\n",
    )
    .unwrap();
    let endpoint = emulator.endpoint();
    // The binary pointed at the emulator and the store under test.
    let caracal = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_caracal"));
        cmd.env_remove("CARACAL_CONFIG")
            .env_remove("AWS_PROFILE")
            .envs([
                ("AWS_ENDPOINT_URL", endpoint.as_str()),
                ("CARACAL_ENDPOINT_URL", endpoint.as_str()),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
                ("AWS_REGION", "us-east-1"),
            ])
            .envs(store_env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("CARACAL_DB", dir.path().join("caracal.db"));
        cmd
    };
    let spawn = |n: usize| {
        let mut cmd = caracal();
        cmd.args([
            "logs",
            "poll",
            "--queue",
            &queue_url,
            "--once",
            "--rules",
            rules.to_str().unwrap(),
        ])
        .args(["--source-id", &format!("poller-{n}")]);
        cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        cmd.spawn().unwrap()
    };
    let (a, b) = (spawn(1), spawn(2));
    let (a, b) = tokio::task::spawn_blocking(move || {
        (a.wait_with_output().unwrap(), b.wait_with_output().unwrap())
    })
    .await
    .unwrap();
    for out in [&a, &b] {
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The `nth` number after `prefix` on the line that starts with it.
    let number = |o: &Output, prefix: &str, nth: usize| -> usize {
        let text = String::from_utf8_lossy(&o.stdout);
        text.lines()
            .find_map(|l| l.strip_prefix(prefix)?.split_whitespace().nth(nth)?.parse().ok())
            .unwrap_or(0)
    };
    // SQS delivers at least once (and the emulator's receive takes no lock, so two
    // pollers can both get one message): a message may be processed twice, never lost.
    let deleted = number(&a, "messages: ", 0) + number(&b, "messages: ", 0);
    assert!(deleted >= OBJECTS, "every message deleted: {deleted}");
    let left = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    let left =
        left.attributes().and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages));
    assert_eq!(left.map(String::as_str), Some("0"), "the queue is drained");
    // The TOTAL row: records, then events.
    let processed = number(&a, "TOTAL", 1) + number(&b, "TOTAL", 1);
    assert!(processed >= OBJECTS * PER_OBJECT, "every event processed: {processed}");

    let out = caracal().args(["alerts", "list", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let alerts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let every: Vec<_> = alerts.iter().filter(|a| a["rule_id"] == "Test.Every").collect();
    assert_eq!(every.len(), 1, "one alert for one dedup key and window: {alerts:#?}");
    assert_eq!(every[0]["event_count"], processed as u64, "no match lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_poll_processes_on_one_queue_and_one_sqlite_file_open_one_alert() {
    two_pollers_share_one_alert(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_poll_processes_on_one_queue_and_dynamodb_open_one_alert() {
    two_pollers_share_one_alert(&[
        ("CARACAL_STORE", "dynamodb".to_owned()),
        ("CARACAL_DYNAMODB_TABLE_PREFIX", "twopoll".to_owned()),
    ])
    .await;
}
