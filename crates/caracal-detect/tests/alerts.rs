//! Alert semantics and delivery, end to end over a real SQLite file, real rule packs in
//! the embedded interpreter and real HTTP receivers on 127.0.0.1.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use caracal_core::config::{DestinationConfig, Secret, StoreBackend, StoreConfig};
use caracal_core::event::RuleMatch;
use caracal_core::{AlertKind, AlertStatus, DeliveryStatus, Severity};
use caracal_detect::{
    AlertUpdate, Detector, EventMeta, RetryPolicy, Router, RuleSource, Rules, deliver_pending,
    update_alert,
};
use caracal_store::Store;
use caracal_testkit::Receiver;
use serde_json::json;

fn write_rule(dir: &Path, id: &str, extra_yaml: &str, python: &str) {
    let file = id.replace('.', "_");
    std::fs::write(
        dir.join(format!("{file}.yml")),
        format!(
            "AnalysisType: rule\nRuleID: {id}\nFilename: {file}.py\nEnabled: true\n\
             LogTypes:\n  - Test.Log\nSeverity: Medium\n{extra_yaml}"
        ),
    )
    .unwrap();
    std::fs::write(dir.join(format!("{file}.py")), python).unwrap();
}

/// Four rules: a thresholded one deduped by user, one raising on odd events, a signal,
/// and one that routes to an explicit destination with dynamic severity.
fn pack(dir: &Path) -> RuleSource {
    write_rule(
        dir,
        "Test.Threshold",
        "Threshold: 3\nDedupPeriodMinutes: 60\n",
        "def rule(e):\n    return e.get('action') == 'login'\n\ndef title(e):\n    return 'login by ' + e.get('user')\n\ndef dedup(e):\n    return e.get('user')\n",
    );
    write_rule(
        dir,
        "Test.Raises",
        "",
        "def rule(e):\n    if e.get('n') % 2:\n        raise ValueError('odd event')\n    return False\n",
    );
    write_rule(
        dir,
        "Test.Signal",
        "CreateAlert: false\n",
        "def rule(e):\n    return e.get('action') == 'login'\n",
    );
    write_rule(
        dir,
        "Test.Routed",
        "OutputIds:\n  - pager\n",
        "def rule(e):\n    return e.get('action') == 'delete'\n\ndef severity(e):\n    return 'CRITICAL'\n\ndef alert_context(e):\n    return {'user': e.get('user')}\n",
    );
    RuleSource { paths: vec![dir.to_owned()], ..RuleSource::default() }
}

fn events(n: usize, action: &str, user: &str, start: usize) -> String {
    let list: Vec<_> = (start..start + n)
        .map(|i| {
            json!({"p_log_type": "Test.Log", "p_event_time": format!("2024-07-31 12:00:{:02}.000", i % 60),
                   "action": action, "user": user, "n": i})
        })
        .collect();
    serde_json::to_string(&list).unwrap()
}

async fn sqlite(path: &Path) -> Arc<dyn Store> {
    let mut config = StoreConfig { backend: StoreBackend::Sqlite, ..Default::default() };
    config.sqlite.path = path.to_owned();
    let store = caracal_store::open(&config, None).await.unwrap();
    store.create_tables().await.unwrap();
    store
}

fn destination(id: &str, kind: &str) -> DestinationConfig {
    DestinationConfig::new(id, kind)
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 2,
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
    }
}

/// Runs one batch in a blocking section, as the log pipeline does.
async fn run(detector: &Arc<Detector>, batch: String, n: usize) -> Vec<RuleMatch> {
    let detector = detector.clone();
    let events: Vec<serde_json::Value> = serde_json::from_str(&batch).unwrap();
    assert_eq!(events.len(), n);
    let metas: Vec<EventMeta> = events
        .iter()
        .map(|e| EventMeta {
            time: chrono::NaiveDateTime::parse_from_str(
                e["p_event_time"].as_str().unwrap(),
                "%Y-%m-%d %H:%M:%S%.f",
            )
            .unwrap()
            .and_utc(),
            log_type: e["p_log_type"].as_str().unwrap().into(),
        })
        .collect();
    tokio::task::spawn_blocking(move || detector.run_batch(&batch, &metas)).await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threshold_dedup_errors_and_signals_follow_panther() {
    let dir = tempfile::tempdir().unwrap();
    let rules_dir = dir.path().join("rules");
    std::fs::create_dir(&rules_dir).unwrap();
    let source = pack(&rules_dir);
    let store = sqlite(&dir.path().join("caracal.db")).await;
    let rules = Arc::new(
        tokio::task::spawn_blocking(move || Rules::compile(&source)).await.unwrap().unwrap(),
    );
    let router = Arc::new(Router::empty());
    let detector = Arc::new(Detector::new(rules.clone(), store.clone(), router));

    // Two logins: under the threshold of 3, nothing opens; the signal rule stores them.
    let early = run(&detector, events(2, "login", "alice", 0), 2).await;
    let s = detector.summary();
    assert_eq!(s.below_threshold, 2, "{s:?}");
    let before = store.alerts().list_recent(100).await.unwrap();
    assert!(before.iter().all(|a| a.rule_id != "Test.Threshold"), "{before:#?}");
    assert_eq!(s.opened.len(), before.len(), "the signal and the rule error");
    // Every match is returned for the lake, with the alert it counts toward.
    let early: Vec<_> = early.iter().filter(|m| m.rule_id == "Test.Threshold").collect();
    assert_eq!(early.len(), 2);
    assert!(early.iter().all(|m| m.alert_created_at.is_none() && m.kind == AlertKind::Rule));
    let errors: Vec<_> = before.iter().filter(|a| a.kind == AlertKind::RuleError).collect();
    assert_eq!(errors.len(), 1, "event 1 is odd: {before:#?}");
    // The third opens the alert (#12: `Threshold: 3` opens only at the third match).
    run(&detector, events(1, "login", "alice", 2), 1).await;
    let alerts = store.alerts().list_recent(100).await.unwrap();
    let threshold: Vec<_> = alerts.iter().filter(|a| a.rule_id == "Test.Threshold").collect();
    assert_eq!(threshold.len(), 1, "{alerts:#?}");
    assert_eq!(threshold[0].event_count, 3);
    assert_eq!(threshold[0].title, "login by alice");
    assert_eq!(threshold[0].dedup, "alice");
    assert!(early.iter().all(|m| m.alert_id == threshold[0].id), "same window, same id");
    // Another user has a dedup string of its own.
    run(&detector, events(3, "login", "bob", 10), 3).await;
    // More of alice in the same window: the same alert grows, no new one.
    run(&detector, events(4, "login", "alice", 20), 4).await;
    let alerts = store.alerts().list_recent(100).await.unwrap();
    let threshold: Vec<_> = alerts.iter().filter(|a| a.rule_id == "Test.Threshold").collect();
    assert_eq!(threshold.len(), 2, "one per user: {threshold:#?}");
    let alice = threshold.iter().find(|a| a.dedup == "alice").unwrap();
    assert_eq!(alice.event_count, 7);

    // Signals: stored, kind signal, no destinations.
    let signals: Vec<_> = alerts.iter().filter(|a| a.kind == AlertKind::Signal).collect();
    assert!(!signals.is_empty());
    assert!(signals.iter().all(|a| a.rule_id == "Test.Signal" && a.deliveries.is_empty()));

    // The raising rule: one RULE_ERROR alert per rule and exception type, the other
    // rules' alerts intact (they were counted above in the same batches).
    let errors: Vec<_> = alerts.iter().filter(|a| a.kind == AlertKind::RuleError).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].rule_id, "Test.Raises");
    assert!(errors[0].dedup.contains("ValueError"));
    assert!(errors[0].event_count >= 4, "every odd event counted: {}", errors[0].event_count);
    assert!(detector.summary().rule_errors >= 4);
}

/// Two detectors (as two `logs poll` processes) on two handles of one store count the
/// same matches at once: one alert per dedup key and window, with every match in it.
async fn two_detectors_share_one_alert(a: Arc<dyn Store>, b: Arc<dyn Store>, rules_dir: &Path) {
    let source = pack(rules_dir);
    let rules = Arc::new(
        tokio::task::spawn_blocking(move || Rules::compile(&source)).await.unwrap().unwrap(),
    );
    let d1 = Arc::new(Detector::new(rules.clone(), a.clone(), Arc::new(Router::empty())));
    let d2 = Arc::new(Detector::new(rules.clone(), b.clone(), Arc::new(Router::empty())));
    let batch = events(10, "delete", "carol", 0);
    let (x, y) = (batch.clone(), batch);
    tokio::join!(run(&d1, x, 10), run(&d2, y, 10));
    let alerts = a.alerts().list_recent(100).await.unwrap();
    let routed: Vec<_> = alerts.iter().filter(|a| a.rule_id == "Test.Routed").collect();
    assert_eq!(routed.len(), 1, "{routed:#?}");
    assert_eq!(routed[0].event_count, 20, "both processes' matches counted into one alert");
    assert_eq!(routed[0].severity, Severity::Critical, "severity() overrides the spec");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_detectors_on_one_sqlite_file_open_one_alert_per_dedup_key() {
    let dir = tempfile::tempdir().unwrap();
    let rules_dir = dir.path().join("rules");
    std::fs::create_dir(&rules_dir).unwrap();
    let db = dir.path().join("caracal.db");
    let (a, b) = (sqlite(&db).await, sqlite(&db).await);
    two_detectors_share_one_alert(a, b, &rules_dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_detectors_on_one_dynamodb_store_open_one_alert_per_dedup_key() {
    let emulator =
        caracal_testkit::Emulator::start().expect("emulator starts (run scripts/setup first)");
    let aws = emulator.aws().await.unwrap();
    let session = aws.session(None, caracal_aws::Purpose::Scan).await.unwrap();
    let mut config = StoreConfig { backend: StoreBackend::Dynamodb, ..Default::default() };
    config.dynamodb.table_prefix = "two-pollers".into();
    let a = caracal_store::open(&config, Some(session.home().dynamodb())).await.unwrap();
    a.create_tables().await.unwrap();
    let b = caracal_store::open(&config, Some(session.home().dynamodb())).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules_dir = dir.path().join("rules");
    std::fs::create_dir(&rules_dir).unwrap();
    two_detectors_share_one_alert(a, b, &rules_dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_reach_real_receivers_and_a_down_one_stays_pending_until_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let rules_dir = dir.path().join("rules");
    std::fs::create_dir(&rules_dir).unwrap();
    let source = pack(&rules_dir);
    let store = sqlite(&dir.path().join("caracal.db")).await;

    let hook = Receiver::start().await.unwrap();
    let slack = Receiver::start().await.unwrap();
    let mut pager = Receiver::start().await.unwrap();
    pager.stop(); // down from the start
    let mut webhook = destination("hook", "webhook");
    webhook.url = Some(Secret::new(hook.url("/alerts")));
    webhook.secret = Some(Secret::new("hmac-key"));
    webhook.headers.insert("X-Team".into(), "security".into());
    let mut slack_dest = destination("slack", "slack");
    slack_dest.url = Some(Secret::new(slack.url("/services/T0/B0/secret-token")));
    slack_dest.alert_url = Some("https://caracal.example/alerts/{id}".into());
    let mut pd = destination("pager", "pagerduty");
    pd.url = Some(Secret::new(pager.url("/v2/enqueue")));
    pd.routing_key = Some(Secret::new("routing-key-123"));
    pd.explicit_only = true;
    let router = Arc::new(Router::new(&[webhook, slack_dest, pd], None).unwrap());

    let rules = Arc::new(
        tokio::task::spawn_blocking(move || Rules::compile(&source)).await.unwrap().unwrap(),
    );
    let detector = Arc::new(Detector::new(rules, store.clone(), router.clone()));
    run(&detector, events(3, "login", "alice", 0), 3).await; // Test.Threshold → hook + slack
    run(&detector, events(1, "delete", "dave", 0), 1).await; // Test.Routed → pager only

    let report = deliver_pending(store.as_ref(), &router, &fast_retry()).await.unwrap();
    // hook + slack for the login alert and the rule-error alert; pager is down.
    assert_eq!(report.pending.len(), 1, "{report:?}");
    assert!(report.pending[0].contains("pager"), "{report:?}");
    assert!(!report.pending[0].contains("routing-key-123"), "no secret in errors");

    let got = hook.received();
    let login = got
        .iter()
        .find(|r| r.json()["rule_id"] == "Test.Threshold")
        .expect("webhook got the alert");
    let signature = login.header("x-caracal-signature").unwrap();
    assert_eq!(signature, caracal_detect::destinations::signature(b"hmac-key", &login.body));
    assert_eq!(login.header("x-team"), Some("security"));
    assert_eq!(login.json()["event_count"], 3);
    let slack_got = slack.received();
    let message = slack_got
        .iter()
        .find(|r| r.json()["text"].as_str().is_some_and(|t| t.contains("login by alice")))
        .expect("slack message");
    assert_eq!(message.path, "/services/T0/B0/secret-token");
    assert!(message.json()["blocks"].as_array().is_some_and(|b| b.len() >= 3));

    // Pending across a "restart": the state is in the store. The receiver comes back.
    let alerts = store.alerts().list_recent(100).await.unwrap();
    let routed = alerts.iter().find(|a| a.rule_id == "Test.Routed").unwrap();
    let delivery = &routed.deliveries[0];
    assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Pending, 2));
    assert!(delivery.last_error.is_some());
    pager.restart().await.unwrap();
    let report = deliver_pending(store.as_ref(), &router, &fast_retry()).await.unwrap();
    assert!(report.pending.is_empty(), "{report:?}");
    // Counted by destination and outcome: the down one failed once, then went through.
    let counters = caracal_telemetry::Counters::global();
    let deliveries = |d: &str, outcome: &str| {
        counters.get(&caracal_detect::events::ALERT_DELIVERIES, &[d, outcome])
    };
    assert_eq!((deliveries("pager", "failed"), deliveries("pager", "delivered")), (1, 1));
    assert!(deliveries("hook", "delivered") >= 2 && deliveries("hook", "failed") == 0);
    let event = pager.received().pop().expect("pagerduty event").json();
    assert_eq!(event["event_action"], "trigger");
    assert_eq!(event["dedup_key"], routed.id.as_str());
    assert_eq!(event["routing_key"], "routing-key-123");
    assert_eq!(event["payload"]["severity"], "critical");

    // Resolving the alert resolves the incident, and the history says who did it.
    let update = AlertUpdate { status: Some(AlertStatus::Resolved), assignee: Some("ana".into()) };
    let alert =
        update_alert(store.as_ref(), &router, &routed.id, &update, "cli:ana").await.unwrap();
    assert_eq!(alert.status, AlertStatus::Resolved);
    assert_eq!(alert.history.len(), 2);
    assert_eq!(alert.history[0].actor, "cli:ana");
    let resolve = pager.received().pop().unwrap().json();
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(resolve["dedup_key"], routed.id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_reach_an_sns_topic_and_an_sqs_queue_on_the_emulator() {
    let emulator =
        caracal_testkit::Emulator::start().expect("emulator starts (run scripts/setup first)");
    let aws = emulator.aws().await.unwrap();
    let clients = aws.session(None, caracal_aws::Purpose::Scan).await.unwrap().home();
    let (sns, sqs) = (clients.sns(), clients.sqs());
    let direct = sqs.create_queue().queue_name("alerts").send().await.unwrap();
    let direct_url = direct.queue_url().unwrap().to_owned();
    // The topic fans out to a queue we can read.
    let fanout = sqs.create_queue().queue_name("fanout").send().await.unwrap();
    let fanout_url = fanout.queue_url().unwrap().to_owned();
    let fanout_arn = sqs
        .get_queue_attributes()
        .queue_url(&fanout_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn).cloned())
        .unwrap();
    let topic = sns.create_topic().name("caracal-alerts").send().await.unwrap();
    let topic_arn = topic.topic_arn().unwrap().to_owned();
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(&fanout_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let rules_dir = dir.path().join("rules");
    std::fs::create_dir(&rules_dir).unwrap();
    let source = pack(&rules_dir);
    let store = sqlite(&dir.path().join("caracal.db")).await;
    let mut to_sns = destination("topic", "sns");
    to_sns.topic_arn = Some(topic_arn);
    let mut to_sqs = destination("queue", "sqs");
    to_sqs.queue_url = Some(direct_url.clone());
    let router = Arc::new(Router::new(&[to_sns, to_sqs], Some(clients.clone())).unwrap());
    let rules = Arc::new(
        tokio::task::spawn_blocking(move || Rules::compile(&source)).await.unwrap().unwrap(),
    );
    let detector = Arc::new(Detector::new(rules, store.clone(), router.clone()));
    run(&detector, events(3, "login", "erin", 0), 3).await;
    let report = deliver_pending(store.as_ref(), &router, &fast_retry()).await.unwrap();
    assert!(report.pending.is_empty(), "{report:?}");

    for url in [&direct_url, &fanout_url] {
        let got =
            sqs.receive_message().queue_url(url).max_number_of_messages(10).send().await.unwrap();
        let bodies: Vec<serde_json::Value> = got
            .messages()
            .iter()
            .filter_map(|m| m.body())
            .map(|b| serde_json::from_str(b).unwrap())
            .collect();
        assert!(
            bodies
                .iter()
                .any(|b| b["rule_id"] == "Test.Threshold" && b["title"] == "login by erin"),
            "{url}: {bodies:?}"
        );
    }
}
