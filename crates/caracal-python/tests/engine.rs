//! The batch APIs the scanner and the detection engine call.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use caracal_core::{ComplianceStatus, Resource, Severity};
use caracal_python::{Engine, EngineOptions, KvStore, LoadOptions, MemoryKv, pack};
use serde_json::json;

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).unwrap();
}

fn engine(dir: &Path) -> Engine {
    let pack = pack::load(&[dir.to_owned()], &LoadOptions::default()).unwrap();
    assert!(pack.invalid.is_empty(), "{:?}", pack.invalid);
    let engine = Engine::new(&pack, &EngineOptions::default()).unwrap();
    assert!(engine.invalid().is_empty(), "{:?}", engine.invalid());
    engine
}

fn policy_pack(dir: &Path) {
    write(
        dir,
        "versioning.py",
        "def policy(r):\n    if r.get('Versioning') == 'boom':\n        raise ValueError('bad')\n    if r.get('Versioning') == 'odd':\n        return 'yes'\n    return r.get('Versioning') == 'Enabled'\n",
    );
    write(
        dir,
        "versioning.yml",
        "AnalysisType: policy\nPolicyID: T.Versioning\nEnabled: true\nFilename: versioning.py\nSeverity: Low\nResourceTypes: [AWS.S3.Bucket]\nSuppressions: ['arn:aws:s3:::scratch-*']\n",
    );
    write(dir, "any.py", "def policy(r):\n    return True\n");
    write(
        dir,
        "any.yml",
        "AnalysisType: policy\nPolicyID: T.Any\nEnabled: true\nFilename: any.py\nSeverity: Info\n",
    );
    write(
        dir,
        "off.yml",
        "AnalysisType: policy\nPolicyID: T.Off\nEnabled: false\nFilename: any.py\nSeverity: Info\n",
    );
}

fn bucket(name: &str, versioning: &str) -> Resource {
    Resource::new(format!("arn:aws:s3:::{name}"), "AWS.S3.Bucket", "123456789012", "us-east-1")
        .with("Versioning", versioning)
}

#[test]
fn policies_give_pass_fail_error_per_applicable_pair() {
    let dir = tempfile::tempdir().unwrap();
    policy_pack(dir.path());
    let engine = engine(dir.path());
    assert_eq!(engine.policies().len(), 2, "disabled policies are not compiled");
    let resources = vec![
        bucket("a", "Enabled"),
        bucket("b", "Suspended"),
        bucket("c", "boom"),
        bucket("d", "odd"),
        Resource::new("arn:aws:iam::1:user/x", "AWS.IAM.User", "1", "global"),
    ];
    let verdicts = engine.evaluate_resources(&resources).unwrap();
    let status = |res: usize, id: &str| {
        verdicts
            .iter()
            .find(|v| v.resource == res && engine.policies()[v.policy].id == id)
            .map(|v| v.status.clone())
    };
    assert_eq!(status(0, "T.Versioning"), Some(ComplianceStatus::Pass));
    assert_eq!(status(1, "T.Versioning"), Some(ComplianceStatus::Fail));
    assert_eq!(status(2, "T.Versioning"), Some(ComplianceStatus::Error("ValueError: bad".into())));
    assert!(
        matches!(status(3, "T.Versioning"), Some(ComplianceStatus::Error(m)) if m.starts_with("TypeError"))
    );
    assert_eq!(status(4, "T.Versioning"), None, "ResourceTypes limits the policy to buckets");
    assert_eq!(
        status(4, "T.Any"),
        Some(ComplianceStatus::Pass),
        "no ResourceTypes means every type"
    );
}

#[test]
fn suppressed_resources_are_flagged_in_findings() {
    let dir = tempfile::tempdir().unwrap();
    policy_pack(dir.path());
    let engine = engine(dir.path());
    let resources = vec![bucket("scratch-1", "Suspended"), bucket("prod", "Suspended")];
    let findings = engine.findings(&resources, chrono::Utc::now()).unwrap();
    let versioning: Vec<_> = findings.iter().filter(|f| f.policy_id == "T.Versioning").collect();
    assert_eq!(versioning.len(), 2);
    assert!(versioning[0].suppressed && versioning[0].resource_id == "arn:aws:s3:::scratch-1");
    assert!(!versioning[1].suppressed);
    assert_eq!(versioning[1].severity, Severity::Low);
    assert_eq!(versioning[1].status, ComplianceStatus::Fail);
}

fn rule_pack(dir: &Path) {
    write(
        dir,
        "dm.yml",
        "AnalysisType: datamodel\nDataModelID: T.DM\nEnabled: true\nLogTypes: [Test.Log]\nMappings:\n  - Name: source_ip\n    Path: $.client.ip\n  - Name: actor_user\n    Path: user\n",
    );
    write(
        dir,
        "r.py",
        "def rule(e):\n    if e.get('explode'):\n        raise KeyError('x')\n    return e.get('hit') is True\n\ndef title(e):\n    if e.get('bad_title'):\n        raise RuntimeError('no title')\n    return 'hit by ' + str(e.udm('actor_user'))\n\ndef alert_context(e):\n    return {'ip': e.udm('source_ip'), 'path': e.udm_path('source_ip')}\n\ndef severity(e):\n    return 'critical' if e.get('worse') else 'DEFAULT'\n",
    );
    write(
        dir,
        "r.yml",
        "AnalysisType: rule\nRuleID: T.Rule\nEnabled: true\nFilename: r.py\nLogTypes: [Test.Log]\nSeverity: Medium\n",
    );
    write(
        dir,
        "probe.py",
        "from panther_core import PantherEvent\nfrom panther_detection_helpers.caching import increment_counter\n\ndef rule(e):\n    assert isinstance(e, PantherEvent)\n    try:\n        e['x'] = 1\n        return False\n    except TypeError:\n        pass\n    assert e.deep_get('a', 'b', default=7) == 7\n    assert e.deep_walk('items', 'id') == [1, 2]\n    assert e.to_dict()['items'][0]['id'] == 1\n    assert e.event_time_epoch() == 1546300800\n    return increment_counter('probe') >= 2\n",
    );
    write(
        dir,
        "probe.yml",
        "AnalysisType: rule\nRuleID: T.Probe\nEnabled: true\nFilename: probe.py\nLogTypes: [Probe.Log]\nSeverity: Low\n",
    );
}

#[test]
fn rules_alert_with_fields_and_fall_back_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    rule_pack(dir.path());
    let engine = engine(dir.path());
    let events = vec![
        json!({"p_log_type": "Test.Log", "hit": true, "user": "alice", "client": {"ip": "10.0.0.1"}}),
        json!({"p_log_type": "Test.Log", "hit": false}),
        json!({"p_log_type": "Test.Log", "explode": true}),
        json!({"p_log_type": "Test.Log", "hit": true, "bad_title": true, "worse": true}),
        json!({"p_log_type": "Other.Log", "hit": true}),
    ];
    let outcomes = engine.evaluate_events(&events).unwrap();
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    let hit = &outcomes[0];
    assert_eq!((hit.event, hit.title.as_deref()), (0, Some("hit by alice")));
    assert_eq!(hit.dedup.as_deref(), Some("hit by alice"));
    assert_eq!(hit.alert_context, Some(json!({"ip": "10.0.0.1", "path": "client.ip"})));
    assert_eq!(engine.outcome_severity(hit), Severity::Medium);
    let error = &outcomes[1];
    assert_eq!((error.event, error.error.as_deref()), (2, Some("rule: KeyError: 'x'")));
    let fallback = &outcomes[2];
    assert_eq!(fallback.title.as_deref(), Some("T.Rule"));
    assert_eq!(fallback.dedup.as_deref(), Some("defaultDedupString:T.Rule"));
    assert_eq!(fallback.errors, vec!["title: RuntimeError: no title".to_owned()]);
    assert_eq!(engine.outcome_severity(fallback), Severity::Critical);
}

#[test]
fn event_object_is_immutable_and_caching_uses_the_configured_store() {
    let dir = tempfile::tempdir().unwrap();
    rule_pack(dir.path());
    let engine = engine(dir.path());
    let store = Arc::new(MemoryKv::default());
    engine.set_kv_store(store.clone()).unwrap();
    let event = json!({"p_log_type": "Probe.Log", "p_event_time": "2019-01-01 00:00:00.000", "items": [{"id": 1}, {"id": 2}]});
    let first = engine.evaluate_events(std::slice::from_ref(&event)).unwrap();
    assert!(first.is_empty(), "{first:?}");
    let second = engine.evaluate_events(&[event]).unwrap();
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(second[0].error, None);
    assert_eq!(store.get("probe").as_deref(), Some("2"));
}

#[test]
fn runaway_policy_is_interrupted_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "loop.py",
        "def policy(r):\n    while r.get('Loop'):\n        pass\n    return True\n",
    );
    write(
        dir.path(),
        "loop.yml",
        "AnalysisType: policy\nPolicyID: T.Loop\nEnabled: true\nFilename: loop.py\nSeverity: Low\n",
    );
    let pack = pack::load(&[dir.path().to_owned()], &LoadOptions::default()).unwrap();
    let options = EngineOptions {
        time_limit: std::time::Duration::from_millis(200),
        ..EngineOptions::default()
    };
    let engine = Engine::new(&pack, &options).unwrap();
    let resources = vec![
        Resource::new("a", "AWS.T", "1", "r").with("Loop", true),
        Resource::new("b", "AWS.T", "1", "r"),
    ];
    let verdicts = engine.evaluate_resources(&resources).unwrap();
    assert!(
        matches!(&verdicts[0].status, ComplianceStatus::Error(m) if m.starts_with("DetectionTimeout")),
        "{verdicts:?}"
    );
    assert_eq!(verdicts[1].status, ComplianceStatus::Pass);
}

#[test]
fn alert_contexts_become_json_as_json_dumps_with_default_str() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ctx.py",
        "def rule(e):\n    return True\n\ndef alert_context(e):\n    if e.get('deep'):\n        ctx = 0\n        for _ in range(600):\n            ctx = [ctx]\n        return {'deep': ctx}\n    return {'tuple': (1, 'a'), 'nan': float('nan'), 2: 'int key', None: 'none key', True: 'bool key', (1, 2): 'tuple key', 'set': {3}, 'range': range(2), 'big': 2**70, 'neg': -2**63, 'u': 2**64 - 1, 'nested': e.get('nested'), 'event': e}\n",
    );
    write(
        dir.path(),
        "ctx.yml",
        "AnalysisType: rule\nRuleID: T.Ctx\nEnabled: true\nFilename: ctx.py\nLogTypes: [T.Log]\nSeverity: Info\n",
    );
    let engine = engine(dir.path());
    let nested = json!({"pad": "x".repeat(300), "list": [1, {"k": null}]});
    let events = vec![
        json!({"p_log_type": "T.Log", "nested": nested}),
        json!({"p_log_type": "T.Log", "deep": true}),
    ];
    let outcomes = engine.evaluate_events(&events).unwrap();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    let expected = json!({
        "tuple": [1, "a"],
        "nan": null,
        "2": "int key",
        "null": "none key",
        "true": "bool key",
        "(1, 2)": "tuple key",
        "set": "{3}",
        "range": "range(0, 2)",
        "big": 1_180_591_620_717_411_303_424.0,
        "neg": i64::MIN,
        "u": u64::MAX,
        "nested": nested,
        "event": events[0],
    });
    assert_eq!(outcomes[0].alert_context, Some(expected));
    assert!(outcomes[0].errors.is_empty(), "{:?}", outcomes[0].errors);
    // Too deep for JSON: that alert loses its context (with an error), the batch goes on.
    assert_eq!(
        (outcomes[1].alert_context.as_ref(), outcomes[1].title.as_deref()),
        (None, Some("T.Ctx"))
    );
    assert!(
        outcomes[1].errors[0].starts_with("alert_context: ValueError"),
        "{:?}",
        outcomes[1].errors
    );
}

#[test]
fn circular_or_failing_alert_contexts_lose_only_their_own_context() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ctx.py",
        "class Loud:\n    def __str__(self):\n        raise RuntimeError('no text')\n\n\
         class Endless:\n    def __str__(self):\n        while True:\n            pass\n\n\
         def rule(e):\n    return True\n\n\
         def alert_context(e):\n    kind = e.get('kind')\n    if kind == 'cycle':\n        ctx = {'x': 1}\n        ctx['a'] = ctx\n        ctx['b'] = ctx\n        return ctx\n    \
         if kind == 'loud':\n        return {'v': Loud()}\n    \
         if kind == 'endless':\n        return {'v': Endless()}\n    \
         shared = [1, 2]\n    return {'left': shared, 'right': shared}\n",
    );
    write(
        dir.path(),
        "ctx.yml",
        "AnalysisType: rule\nRuleID: T.Ctx\nEnabled: true\nFilename: ctx.py\nLogTypes: [T.Log]\nSeverity: Info\n",
    );
    let events = vec![
        json!({"p_log_type": "T.Log", "kind": "cycle"}),
        json!({"p_log_type": "T.Log", "kind": "loud"}),
        json!({"p_log_type": "T.Log", "kind": "shared"}),
        json!({"p_log_type": "T.Log", "kind": "endless"}),
    ];
    let pack = pack::load(&[dir.path().to_owned()], &LoadOptions::default()).unwrap();
    let options = EngineOptions { time_limit: Duration::from_millis(300), ..Default::default() };
    let engine = Engine::new(&pack, &options).unwrap();
    let outcomes = engine.evaluate_events(&events).unwrap();
    assert_eq!(outcomes.len(), 4, "every alert survives: {outcomes:?}");
    assert_eq!(outcomes[3].alert_context, None);
    assert!(
        outcomes[3].errors[0].starts_with("alert_context: DetectionTimeout"),
        "a runaway __str__ is interrupted: {:?}",
        outcomes[3].errors
    );
    assert_eq!(outcomes[0].alert_context, None);
    assert_eq!(outcomes[0].errors, ["alert_context: ValueError: Circular reference detected"]);
    assert_eq!(outcomes[1].alert_context, None);
    assert_eq!(outcomes[1].errors, ["alert_context: RuntimeError: no text"]);
    // A value seen twice but not inside itself is no cycle.
    assert_eq!(outcomes[2].alert_context, Some(json!({"left": [1, 2], "right": [1, 2]})));
}

#[test]
fn large_nested_objects_compare_equal_before_they_are_opened() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "eq.py",
        "def rule(e):\n    a, b = e['a'], e['b']\n    \
         return a == b and not (a != b) and a in [b] and e['a'] != e['c']\n",
    );
    write(
        dir.path(),
        "eq.yml",
        "AnalysisType: rule\nRuleID: T.Eq\nEnabled: true\nFilename: eq.py\nLogTypes: [T.Log]\nSeverity: Info\n",
    );
    let engine = engine(dir.path());
    // Large enough that the decoder keeps them as text until first use.
    let big = json!({"pad": "x".repeat(400), "n": 1});
    let other = json!({"pad": "x".repeat(400), "n": 2});
    let event = json!({"p_log_type": "T.Log", "a": big, "b": big, "c": other});
    let outcomes = engine.evaluate_events(&[event]).unwrap();
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert_eq!(outcomes[0].error, None);
}
