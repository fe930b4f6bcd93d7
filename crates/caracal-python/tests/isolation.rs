//! #11.1-3: detections in worker processes. A detection that hangs inside one C call,
//! ends its process or allocates past the memory limit costs only its own results; every
//! other verdict and outcome of the batch is the one an in-process run gives.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use caracal_core::{ComplianceStatus, Resource};
use caracal_python::testing::{self, TestOptions};
use caracal_python::{
    Engine, EngineOptions, Isolation, LoadOptions, MemoryKv, PostureLookup, WorkerCommand, pack,
};
use serde_json::{Value, json};

fn workers() -> Isolation {
    Isolation::Workers(WorkerCommand::new(env!("CARGO_BIN_EXE_caracal-python-worker").into()))
}

fn options() -> EngineOptions {
    EngineOptions {
        time_limit: Duration::from_millis(500),
        isolation: workers(),
        memory_limit: 1 << 30,
        ..EngineOptions::default()
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).unwrap();
}

/// A detection `id` of `kind` whose module is `source`.
fn detection(dir: &Path, kind: &str, id: &str, source: &str, extra: &str) {
    let stem = id.to_lowercase();
    write(dir, &format!("{stem}.py"), source);
    let key = if kind == "policy" { "PolicyID" } else { "RuleID" };
    let scope =
        if kind == "policy" { "ResourceTypes: [AWS.S3.Bucket]" } else { "LogTypes: [Test.Log]" };
    write(
        dir,
        &format!("{stem}.yml"),
        &format!(
            "AnalysisType: {kind}\n{key}: {id}\nEnabled: true\nFilename: {stem}.py\nSeverity: Low\n{scope}\n{extra}"
        ),
    );
}

fn engine(dir: &Path) -> Engine {
    let pack = pack::load(&[dir.to_owned()], &LoadOptions::default()).unwrap();
    assert!(pack.invalid.is_empty(), "{:?}", pack.invalid);
    let engine = Engine::new(&pack, &options()).unwrap();
    assert!(engine.is_isolated());
    assert!(engine.invalid().is_empty(), "{:?}", engine.invalid());
    engine
}

const HUNGRY: &str =
    "def policy(resource):\n    hog = bytearray(3 * 1024 ** 3)\n    return len(hog) > 0\n";

#[test]
fn a_policy_that_hangs_exits_or_exhausts_memory_costs_only_its_own_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    detection(
        d,
        "policy",
        "Ok",
        "def policy(resource):\n    return resource['Name'] != 'b5'\n",
        "",
    );
    detection(
        d,
        "policy",
        "Exits",
        "import os\n\ndef policy(resource):\n    if resource['Name'] == 'b2':\n        os._exit(0)\n    return True\n",
        "",
    );
    detection(
        d,
        "policy",
        "Sleeps",
        "import time\n\ndef policy(resource):\n    if resource['Name'] == 'b3':\n        time.sleep(60)\n    return True\n",
        "",
    );
    detection(
        d,
        "policy",
        "Regex",
        "import re\n\ndef policy(resource):\n    if resource['Name'] == 'b4':\n        return re.match(r'(a+)+$', 'a' * 40 + 'b') is None\n    return True\n",
        "",
    );
    detection(d, "policy", "Hungry", HUNGRY, "");
    let engine = engine(d);
    let resources: Vec<Resource> = (1..=5)
        .map(|i| {
            Resource::new(
                format!("arn:aws:s3:::b{i}"),
                "AWS.S3.Bucket",
                "123456789012",
                "us-east-1",
            )
            .with("Name", format!("b{i}"))
        })
        .collect();
    let verdicts = engine.evaluate_resources(&resources).unwrap();
    let ids: Vec<&str> = engine.policies().iter().map(|p| p.id.as_str()).collect();
    let by: HashMap<(String, String), ComplianceStatus> = verdicts
        .iter()
        .map(|v| ((ids[v.policy].to_owned(), format!("b{}", v.resource + 1)), v.status.clone()))
        .collect();
    assert_eq!(verdicts.len(), 25, "{by:#?}");
    let status = |policy: &str, bucket: &str| by[&(policy.to_owned(), bucket.to_owned())].clone();
    let error = |policy: &str, bucket: &str| match status(policy, bucket) {
        ComplianceStatus::Error(message) => message,
        other => panic!("{policy} on {bucket}: {other:?}, not ERROR"),
    };
    // Others' verdicts are intact.
    for bucket in ["b1", "b2", "b3", "b4"] {
        assert_eq!(status("Ok", bucket), ComplianceStatus::Pass, "{bucket}");
    }
    assert_eq!(status("Ok", "b5"), ComplianceStatus::Fail);
    // os._exit(0): its own verdict is an ERROR naming the exit; earlier items keep theirs.
    assert_eq!(status("Exits", "b1"), ComplianceStatus::Pass);
    let exit = error("Exits", "b2");
    assert!(exit.starts_with("WorkerDied:") && exit.contains("exited with status 0"), "{exit}");
    for bucket in ["b3", "b4", "b5"] {
        assert!(error("Exits", bucket).starts_with("DetectionSkipped:"), "{bucket}");
    }
    // Stuck in C (time.sleep, a catastrophic regex): timed out, the process killed.
    for (policy, bucket) in [("Sleeps", "b3"), ("Regex", "b4")] {
        let timeout = error(policy, bucket);
        assert!(
            timeout.starts_with("DetectionTimeout:") && timeout.contains("0.5 s"),
            "{policy}: {timeout}"
        );
    }
    for bucket in ["b1", "b2"] {
        assert_eq!(status("Sleeps", bucket), ComplianceStatus::Pass);
    }
    assert_eq!(status("Regex", "b3"), ComplianceStatus::Pass);
    // Past the memory limit: MemoryError in that policy, on each resource.
    for i in 1..=5 {
        let hungry = error("Hungry", &format!("b{i}"));
        assert!(hungry.starts_with("MemoryError"), "{hungry}");
    }
    // The engine goes on with fresh workers.
    let again = engine.evaluate_resources(&resources[..1]).unwrap();
    assert_eq!(again.len(), 5);
}

/// A posture store with one resource and one verdict.
struct Fake;

impl PostureLookup for Fake {
    fn resource(&self, resource_id: &str) -> Result<Option<Value>, String> {
        Ok(Some(json!({"ResourceId": resource_id, "Name": "looked-up"})))
    }
    fn compliance(&self, _resource_id: &str) -> Result<Vec<(String, String)>, String> {
        Ok(vec![("P".into(), "FAIL".into())])
    }
    fn resource_at(
        &self,
        resource_id: &str,
        when: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Value>, String> {
        Ok(Some(json!({"ResourceId": resource_id, "Name": when.format("%H:%M:%S").to_string()})))
    }
}

#[test]
fn a_rule_that_exits_or_spins_in_c_costs_only_its_own_outcomes_and_lookups_reach_the_stores() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    detection(
        d,
        "rule",
        "Counts",
        "from panther_detection_helpers.caching import increment_counter\nimport caracal_posture\n\n\
         def rule(event):\n    return True\n\n\
         def title(event):\n    n = increment_counter('isolation-test-' + event['id'])\n    \
         name = caracal_posture.resource_lookup('arn:aws:s3:::x')['Name']\n    \
         then = caracal_posture.resource_at('arn:aws:s3:::x', '2024-07-31 12:00:05.000')['Name']\n    \
         return f\"{event['id']} {n} {name} {then} {caracal_posture.compliance_status('x', 'P')}\"\n",
        "",
    );
    detection(
        d,
        "rule",
        "Exits",
        "import os\n\ndef rule(event):\n    if event['id'] == 'e2':\n        os._exit(3)\n    return True\n",
        "",
    );
    detection(
        d,
        "rule",
        "Spins",
        "def rule(event):\n    if event['id'] == 'e3':\n        return sum(range(10 ** 11)) > 0\n    return False\n",
        "",
    );
    detection(d, "rule", "Hungry", &HUNGRY.replace("policy(resource)", "rule(event)"), "");
    let engine = engine(d);
    let kv = Arc::new(MemoryKv::default());
    engine.set_kv_store(kv.clone()).unwrap();
    engine.set_posture(Some(Arc::new(Fake))).unwrap();
    let events: Vec<Value> =
        (1..=4).map(|i| json!({"p_log_type": "Test.Log", "id": format!("e{i}")})).collect();
    let outcomes = engine.evaluate_events(&events).unwrap();
    engine.set_posture(None).unwrap();
    let ids: Vec<&str> = engine.rules().iter().map(|r| r.id.as_str()).collect();
    let by: HashMap<(String, usize), _> =
        outcomes.iter().map(|o| ((ids[o.rule].to_owned(), o.event + 1), o.clone())).collect();
    let get = |rule: &str, event: usize| by.get(&(rule.to_owned(), event)).cloned();
    for event in 1..=4 {
        let counted = get("Counts", event).expect("Counts matched");
        assert_eq!(
            counted.title.as_deref(),
            Some(format!("e{event} 1 looked-up 12:00:05 FAIL").as_str()),
            "{counted:?}"
        );
        let hungry = get("Hungry", event).and_then(|o| o.error).unwrap_or_default();
        assert!(hungry.starts_with("rule: MemoryError"), "{hungry}");
    }
    assert!(get("Exits", 1).is_some_and(|o| o.error.is_none()));
    let exit = get("Exits", 2).and_then(|o| o.error).unwrap_or_default();
    assert!(exit.contains("WorkerDied") && exit.contains("status 3"), "{exit}");
    let spin = get("Spins", 3).and_then(|o| o.error).unwrap_or_default();
    assert!(spin.starts_with("rule: DetectionTimeout:"), "{spin}");
    assert!(get("Spins", 1).is_none() && get("Spins", 2).is_none());
    // Batches that ran again after a death counted each event once.
    use caracal_python::KvStore;
    assert_eq!(kv.get("isolation-test-e1").as_deref(), Some("1"));
}

fn fixture(dir: &Path) -> PathBuf {
    let tests = |expected: bool| {
        format!(
            "Tests:\n  - Name: one\n    ExpectedResult: {expected}\n    Resource: {{\"Name\": \"b\"}}\n"
        )
    };
    detection(
        dir,
        "policy",
        "Exits",
        "import os\n\ndef policy(resource):\n    os._exit(0)\n",
        &tests(true),
    );
    detection(dir, "policy", "Wrong", "def policy(resource):\n    return True\n", &tests(false));
    detection(
        dir,
        "policy",
        "Regex",
        "import re\n\ndef policy(resource):\n    return re.match(r'(a+)+$', 'a' * 40 + 'b') is None\n",
        &tests(true),
    );
    detection(dir, "policy", "Fine", "def policy(resource):\n    return True\n", &tests(true));
    dir.to_owned()
}

#[test]
fn tests_of_a_detection_that_exits_or_hangs_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    let root = fixture(dir.path());
    let options = TestOptions {
        time_limit: Duration::from_millis(500),
        isolation: workers(),
        ..TestOptions::default()
    };
    let report = testing::run(&[root], &options).unwrap();
    let mut text = Vec::new();
    testing::print_text(&report, false, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert_eq!(report.exit_code(), 1, "{text}");
    assert_eq!((report.passed, report.failed), (1, 3), "{text}");
    assert!(
        text.contains("[policy] WorkerDied: its worker process exited with status 0"),
        "{text}"
    );
    assert!(text.contains("[policy] DetectionTimeout: ran longer than the 0.5 s"), "{text}");
    assert!(text.contains("[FAIL] [policy] true"), "{text}");
}

#[test]
fn a_module_that_exits_while_importing_is_an_invalid_spec() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    detection(d, "policy", "Gone", "import os\nos._exit(0)\n", "");
    detection(d, "policy", "Fine", "def policy(resource):\n    return True\n", "");
    let pack = pack::load(&[d.to_owned()], &LoadOptions::default()).unwrap();
    let engine = Engine::new(&pack, &options()).unwrap();
    let ids: Vec<&str> = engine.policies().iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["Fine"]);
    assert_eq!(engine.invalid().len(), 1, "{:?}", engine.invalid());
    assert!(engine.invalid()[0].path.ends_with("gone.py"));
    assert!(engine.invalid()[0].message.contains("exited with status 0"), "{:?}", engine.invalid());
}

/// A detection that catches every interrupt in a loop: in a worker, the worker is killed
/// and that test fails; the run goes on (in-process it can only end the process).
#[test]
fn a_detection_that_swallows_interrupts_fails_its_test() {
    let root =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/broken/swallowed_timeout");
    let options = TestOptions {
        time_limit: Duration::from_millis(300),
        isolation: workers(),
        ..TestOptions::default()
    };
    let report = testing::run(&[root], &options).unwrap();
    let mut text = Vec::new();
    testing::print_text(&report, false, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert_eq!(report.exit_code(), 1, "{text}");
    assert!(text.contains("[rule] DetectionTimeout: ran longer than the 0.3 s"), "{text}");
}
