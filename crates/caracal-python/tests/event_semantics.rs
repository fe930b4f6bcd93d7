//! The event object and helpers behave as the public panther_core / helper modules do, so
//! community rules give the same answers: `udm` modes, `udm_path`, `check_account_age`.

use std::fs;
use std::path::Path;

use caracal_python::{Engine, EngineOptions, LoadOptions, pack};
use serde_json::json;

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).unwrap();
}

/// Runs `body` (asserts, then `return True`) as a rule on `event`; panics with the
/// rule's error if an assert failed.
fn check(log_type: &str, body: &str, event: serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "dm.yml",
        "AnalysisType: datamodel\nDataModelID: T.DM\nEnabled: true\nLogTypes: [Modelled.Log]\n\
         Mappings:\n  - Name: source_ip\n    Path: $.client.ip\n  - Name: actor\n    Method: get_actor\n",
    );
    write(dir.path(), "dm.py", "def get_actor(event):\n    return event.get('who', 'nobody')\n");
    let dm = fs::read_to_string(dir.path().join("dm.yml")).unwrap() + "Filename: dm.py\n";
    write(dir.path(), "dm.yml", &dm);
    write(
        dir.path(),
        "r.py",
        &format!(
            "from panther_core import PantherError\nfrom panther_detection_helpers.caching import *\n\ndef rule(e):\n{body}\n    return True\n"
        ),
    );
    write(
        dir.path(),
        "r.yml",
        &format!(
            "AnalysisType: rule\nRuleID: T.R\nEnabled: true\nFilename: r.py\nLogTypes: [{log_type}]\nSeverity: Low\n"
        ),
    );
    let pack = pack::load(&[dir.path().to_owned()], &LoadOptions::default()).unwrap();
    assert!(pack.invalid.is_empty(), "{:?}", pack.invalid);
    let engine = Engine::new(&pack, &EngineOptions::default()).unwrap();
    assert!(engine.invalid().is_empty(), "{:?}", engine.invalid());
    let mut event = event;
    event["p_log_type"] = json!(log_type);
    let out = engine.evaluate_events(&[event]).unwrap();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].error, None, "{out:?}");
}

#[test]
fn udm_reads_the_data_model_then_p_udm_then_the_event() {
    check(
        "Modelled.Log",
        "    assert e.udm('source_ip') == '10.0.0.1'\n\
         \x20   assert e.udm('actor') == 'alice'\n\
         \x20   # A mapped name that finds nothing is the default, not a p_udm fallback.\n\
         \x20   assert e.udm('source_ip', default='d') == '10.0.0.1'\n\
         \x20   assert e.udm('unmapped') == 'own field'\n\
         \x20   assert e.udm('nested', 'k') == 'from p_udm'\n\
         \x20   assert e.udm('missing', default=3) == 3\n\
         \x20   assert e.udm_path('source_ip') == 'client.ip'  # #15.4: dotted\n\
         \x20   assert e.udm_path('actor') == 'get_actor'\n\
         \x20   assert e.udm_path('unmapped') is None\n",
        json!({"client": {"ip": "10.0.0.1"}, "who": "alice", "unmapped": "own field",
               "p_udm": {"nested": {"k": "from p_udm"}}, "nested": {"k": "own"}}),
    );
    check(
        "Modelled.Log",
        "    assert e.udm('source_ip', default='d') == 'd'\n\
         \x20   assert e.udm('source_ip') is None\n",
        json!({"p_udm": {"source_ip": "not used"}}),
    );
}

#[test]
fn udm_without_a_data_model_reads_p_udm_or_the_event_and_udm_path_raises() {
    check(
        "Plain.Log",
        "    assert e.udm('source_ip') == '192.0.2.1'\n\
         \x20   assert e.udm('user') == 'bob'\n\
         \x20   try:\n        e.udm_path('source_ip')\n        assert False, 'udm_path needs a data model'\n    except PantherError:\n        pass\n",
        json!({"p_udm": {"source_ip": "192.0.2.1"}, "user": "bob"}),
    );
}

#[test]
fn events_and_their_nested_objects_pickle_and_come_back_immutable() {
    check(
        "Plain.Log",
        "    import pickle\n\
         \x20   from panther_core import PantherEvent\n\
         \x20   back = pickle.loads(pickle.dumps(e))\n\
         \x20   assert isinstance(back, PantherEvent) and back == e\n\
         \x20   assert back['big'] == e['big'] and back.deep_get('big', 'n') == 1\n\
         \x20   try:\n        back['x'] = 1\n        assert False, 'still immutable'\n    except TypeError:\n        pass\n",
        json!({"big": {"pad": "x".repeat(400), "n": 1}}),
    );
}

#[test]
fn check_account_age_is_true_only_for_keys_a_creation_rule_stored() {
    check(
        "Plain.Log",
        "    assert check_account_age('123456789012') is False\n\
         \x20   assert check_account_age('') is False\n\
         \x20   put_string_set('123456789012', ['created'])\n\
         \x20   assert check_account_age('123456789012') is True\n\
         \x20   assert check_account_age('123456789012') is True, 'asking does not consume it'\n",
        json!({}),
    );
}
