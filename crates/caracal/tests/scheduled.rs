//! #18.5: the bundled scheduled query over the bundled CloudTrail samples feeds the
//! bundled scheduled rule, which opens an alert through the same alert logic as streaming
//! rules: `caracal scheduled run` now, and `caracal serve --lake` on the schedule.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const QUERY: &str = "AWS CloudTrail Denied Calls By Principal";
const RULE: &str = "AWS.CloudTrail.DeniedCallBurst";

fn caracal(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_caracal"))
        .args(args)
        .current_dir(dir)
        .env_remove("CARACAL_CONFIG")
        .env_remove("CARACAL_STORE")
        .env("CARACAL_DB", dir.join("caracal.db"))
        .output()
        .expect("the binary runs")
}

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// The lake of the bundled CloudTrail samples, and a pack holding the bundled scheduled
/// rule and query, the query's window widened to reach the samples' years-old events.
fn setup(dir: &Path, schedule: Option<&str>) -> (String, String) {
    let lake = dir.join("lake");
    let samples = repo("crates/caracal-logs/tests/data/AWS.CloudTrail");
    let out = caracal(
        dir,
        &[
            "logs",
            "process",
            "--no-rules",
            "--lake",
            lake.to_str().unwrap(),
            samples.to_str().unwrap(),
        ],
    );
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&out.stderr));

    let pack = dir.join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    for file in ["aws_cloudtrail_denied_call_burst.yml", "aws_cloudtrail_denied_call_burst.py"] {
        std::fs::copy(repo("rules").join(file), pack.join(file)).unwrap();
    }
    let query =
        std::fs::read_to_string(repo("rules/queries/aws_cloudtrail_denied_calls_by_principal.yml"))
            .unwrap();
    assert!(query.contains("p_occurs_since('1 day')"));
    let mut query =
        query.replace("p_occurs_since('1 day')", "p_occurs_after('2015-01-01T00:00:00Z')");
    if let Some(cron) = schedule {
        query = query.replace(
            "  RateMinutes: 60\n  TimeoutMinutes: 10",
            &format!("  CronExpression: \"{cron}\"\n  TimeoutMinutes: 1"),
        );
        assert!(query.contains(cron));
    }
    std::fs::write(pack.join("query.yml"), query).unwrap();
    (lake.to_str().unwrap().to_owned(), pack.to_str().unwrap().to_owned())
}

fn alerts(dir: &Path) -> Vec<serde_json::Value> {
    let out = caracal(dir, &["alerts", "list", "--json", "--limit", "100"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("alerts as JSON")
}

#[test]
fn the_bundled_scheduled_query_feeds_its_rule_which_opens_one_alert_per_principal() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, pack) = setup(dir.path(), None);

    let list = caracal(dir.path(), &["scheduled", "list", "--rules", &pack]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    assert!(text.starts_with(&format!("{QUERY}\tevery 60 min\tnext ")), "{text}");

    let run =
        caracal(dir.path(), &["scheduled", "run", "--rules", &pack, "--lake", &lake, "--json"]);
    assert!(
        run.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let first: serde_json::Value = serde_json::from_slice(&run.stdout).expect("one JSON run");
    assert_eq!(first["query"], QUERY);
    assert!(first["rows"].as_u64().unwrap() >= 5, "one row per principal and address: {first}");
    assert_eq!(first["matches"], 1, "only the stratus role was denied ten times or more: {first}");
    assert_eq!(first["opened"].as_array().unwrap().len(), 1);
    assert!(first["error"].is_null());

    let stored = alerts(dir.path());
    let alert = stored.iter().find(|a| a["rule_id"] == RULE).expect("the scheduled rule's alert");
    assert_eq!(alert["id"], first["opened"][0]);
    assert_eq!(alert["severity"], "MEDIUM");
    let principal = "arn:aws:sts::321848314756:assumed-role/stratus-red-team-get-usr-data-role";
    assert!(alert["title"].as_str().unwrap().starts_with(principal), "{alert}");
    assert!(
        alert["title"].as_str().unwrap().ends_with("had 15 AWS API calls denied in a day"),
        "{alert}"
    );
    assert_eq!(alert["context"]["denied"], 15);
    assert_eq!(alert["log_types"], serde_json::json!([format!("ScheduledQuery.{QUERY}")]));

    // The next run inside the dedup window adds to the same alert.
    let again =
        caracal(dir.path(), &["scheduled", "run", "--rules", &pack, "--lake", &lake, QUERY]);
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{text}");
    assert!(text.contains("alerts: 0 opened, 1 updated"), "{text}");
    assert_eq!(alerts(dir.path()).iter().filter(|a| a["rule_id"] == RULE).count(), 1);
}

#[test]
fn a_query_that_fails_is_reported_and_exits_1_and_an_unknown_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, pack) = setup(dir.path(), None);
    let query = Path::new(&pack).join("query.yml");
    let text = std::fs::read_to_string(&query)
        .unwrap()
        .replace("FROM panther_logs.public.aws_cloudtrail", "FROM aws_nosuchtable");
    std::fs::write(&query, text).unwrap();

    let run = caracal(dir.path(), &["scheduled", "run", "--rules", &pack, "--lake", &lake]);
    let out = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{out}");
    assert!(
        out.starts_with(&format!("{QUERY}: failed: ")) && out.contains("aws_nosuchtable"),
        "{out}"
    );
    assert!(alerts(dir.path()).is_empty());

    let unknown =
        caracal(dir.path(), &["scheduled", "run", "--rules", &pack, "--lake", &lake, "Nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("\"Nope\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_runs_the_scheduled_query_on_its_cron_and_answers_search_over_the_lake() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, pack) = setup(dir.path(), Some("* * * * *"));
    let config = dir.path().join("caracal.toml");
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(
        &config,
        format!("[rules]\npaths = [{pack:?}]\n[policies]\npaths = [{policies:?}]\n"),
    )
    .unwrap();
    let created = caracal(dir.path(), &["token", "create", "--name", "analyst", "--scope", "read"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let token = String::from_utf8_lossy(&created.stdout).trim().to_owned();

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_caracal"))
        .args(["--config", config.to_str().unwrap(), "serve", "--listen", &listen, "--lake", &lake])
        .current_dir(dir.path())
        .env_remove("CARACAL_CONFIG")
        .env_remove("CARACAL_STORE")
        .env("CARACAL_DB", dir.path().join("caracal.db"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });

    // The API searches the lake's indicator columns.
    let base = format!("http://{listen}");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if http.get(format!("{base}/health")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "serve did not come up");
    let search = |value: &str| {
        let url = format!("{base}/v1/search?value={}", value.replace(' ', "%20"));
        http.get(url).bearer_auth(&token).send()
    };
    let found = search("321848314756").await.unwrap();
    assert_eq!(found.status(), reqwest::StatusCode::OK);
    let found: serde_json::Value = found.json().await.unwrap();
    assert!(found["searched"]["p_any_aws_account_ids"] == "321848314756", "{found}");
    assert!(found["counts"]["AWS.CloudTrail"].as_u64() >= Some(15), "{found}");
    let first = &found["hits"][0];
    assert_eq!(first["log_type"], "AWS.CloudTrail");
    assert!(first["p_event_time"].as_str().is_some_and(|t| t.starts_with("20")), "{found}");
    let empty = search(" ").await.unwrap();
    assert_eq!(empty.status(), reqwest::StatusCode::BAD_REQUEST);
    let bad_time = http
        .get(format!("{base}/v1/search?value=1.2.3.4&since=yesterday"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_time.status(), reqwest::StatusCode::BAD_REQUEST);
    let body: serde_json::Value = bad_time.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
    let anonymous = http.get(format!("{base}/v1/search?value=1.2.3.4")).send().await.unwrap();
    assert_eq!(anonymous.status(), reqwest::StatusCode::UNAUTHORIZED);

    // The cron fires at the next minute; its run opens the alert.
    let deadline = Instant::now() + Duration::from_secs(150);
    let mut seen = Vec::new();
    let mut found = None;
    while Instant::now() < deadline && found.is_none() {
        while let Ok(line) = rx.try_recv() {
            seen.push(line);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        found = alerts(dir.path()).into_iter().find(|a| a["rule_id"] == RULE);
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let status = child.wait().expect("serve exits");
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(1)) {
        seen.push(line);
    }
    let log = seen.join("\n");
    assert!(found.is_some(), "no alert from the scheduled rule:\n{log}");
    assert!(log.contains("serve: 1 scheduled queries over"), "{log}");
    assert!(status.success(), "{log}");
}
