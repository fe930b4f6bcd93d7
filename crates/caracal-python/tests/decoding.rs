//! How a batch reaches detections: large nested objects arrive lazily decoded and must
//! behave exactly like the `ImmutableDict`s `json.loads` would have built; values and
//! edge cases (big integers, escapes, `NaN`, lone surrogates) decode as Python's `json`.

use std::fs;
use std::path::Path;

use caracal_python::{Engine, EngineOptions, LoadOptions, pack};
use serde_json::{Value, json};

/// A rule that asserts `checks` (Python statements on `event`) and then alerts.
fn engine_with(dir: &Path, checks: &str, context: &str) -> Engine {
    let mut source = String::from(
        "import copy\nimport json\nfrom collections.abc import Mapping\n\ndef rule(event):\n",
    );
    for line in checks.lines() {
        source.push_str("    ");
        source.push_str(line);
        source.push('\n');
    }
    source.push_str("    return True\n\ndef alert_context(event):\n    return ");
    source.push_str(context);
    source.push('\n');
    fs::write(dir.join("check.py"), source).unwrap();
    fs::write(
        dir.join("check.yml"),
        "AnalysisType: rule\nRuleID: T.Check\nEnabled: true\nFilename: check.py\nSeverity: Info\nLogTypes: [T.Log]\n",
    )
    .unwrap();
    let pack = pack::load(&[dir.to_owned()], &LoadOptions::default()).unwrap();
    let engine = Engine::new(&pack, &EngineOptions::default()).unwrap();
    assert!(engine.invalid().is_empty(), "{:?}", engine.invalid());
    engine
}

/// A nested object well above the decoder's lazy threshold (keys sorted, as serde_json's).
fn big() -> Value {
    json!({
        "name": "x",
        "items": [{"v": 1}, {"v": 2}],
        "nested": {"k": 1},
        "pad": "y".repeat(400),
    })
}

const MAPPING_CHECKS: &str = r#"exp = json.loads(json.dumps(event.get("whole").to_dict()))
assert event.get("a").get("name") == "x"
assert event["b"]["name"] == "x"
assert "name" in event.get("c") and "nope" not in event.get("c")
assert list(event.get("d")) == list(exp) == ["items", "name", "nested", "pad"]
assert len(event.get("e")) == 4
assert event.get("f") == exp and exp == event.get("g") and not (event.get("h") != exp)
assert json.loads(json.dumps(event.get("i"), default=list)) == exp
assert repr(event.get("j")) == repr(exp).replace("[{'v': 1}, {'v': 2}]", "ImmutableList(({'v': 1}, {'v': 2}))")
assert event.deep_get("k", "nested", "k") == 1
assert event.deep_walk("l", "items", "v") == [1, 2]
assert type(event.get("m").to_dict()) is dict and event.get("m").to_dict() == exp
assert dict(event.get("n")) == exp and {**event.get("o")} == exp
assert dict(event.get("p").items()) == exp and list(event.get("p").values())[1] == "x"
assert isinstance(event.get("q"), Mapping) and isinstance(event.get("q"), dict)
assert type(event.get("r")).__name__ == "ImmutableDict" and bool(event.get("r"))
assert copy.deepcopy(event.get("s")) == exp and type(event.get("s").copy()) is dict
assert (event.get("t") | {}) == exp and ({} | event.get("t")) == exp
assert list(reversed(event.get("u"))) == ["pad", "nested", "name", "items"]
try:
    event.get("v")["x"] = 1
except TypeError:
    pass
else:
    raise AssertionError("a lazy object accepted a write")
assert "x" not in event.get("v") and len(event.get("v")) == 4
assert type(event.get("w").get("nested")).__name__ == "ImmutableDict""#;

#[test]
fn large_nested_objects_behave_like_immutable_mappings() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_with(dir.path(), MAPPING_CHECKS, "{'untouched': event.get('x')}");
    let mut event = json!({"p_log_type": "T.Log"});
    for key in "abcdefghijklmnopqrstuvwx".chars() {
        event[key.to_string()] = big();
    }
    event["whole"] = big();
    let outcomes = engine.evaluate_events(&[event.clone(), event]).unwrap();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    for outcome in &outcomes {
        assert_eq!(outcome.error, None);
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        // json.dumps of an alert context that holds a never-opened lazy object.
        assert_eq!(outcome.alert_context, Some(json!({"untouched": big()})));
    }
}

const VALUE_CHECKS: &str = r#"assert event.get("big") == 123456789012345678901234567890 and type(event.get("big")) is int
assert event.get("neg") == -9223372036854775809
assert event.get("i") == 7 and type(event.get("i")) is int
assert event.get("f") == 1.5e300 and event.get("tiny") == 5e-324 and event.get("inf") == float("inf")
assert event.get("z") == 0.0 and str(event.get("z")) == "-0.0"
assert event.get("s") == "caf\u00e9 \U0001F600\n\"/\\\t"
assert event.get("t") is True and event.get("no") is False and event.get("nil", 1) is None
assert type(event.get("empty")).__name__ == "ImmutableDict" and len(event.get("empty")) == 0
assert event.get("list") == [1, [2, {"a": None}], "x"] and type(event.get("list")[1][1]).__name__ == "ImmutableDict"
assert event.get("dup") == 2 and list(event)[0] == "dup""#;

#[test]
fn values_decode_as_python_json_does() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_with(dir.path(), VALUE_CHECKS, "{}");
    let event = r#"{"dup": 1, "p_log_type": "T.Log", "big": 123456789012345678901234567890,
        "neg": -9223372036854775809, "i": 7, "f": 1.5e300, "tiny": 5e-324, "inf": 1e999,
        "z": -0.0, "s": "caf\u00e9 \ud83d\ude00\n\"\/\\\t", "t": true, "no": false,
        "nil": null, "empty": {}, "list": [1, [2, {"a": null}], "x"], "dup": 2}"#;
    let outcomes = engine.evaluate_events_json(&format!("[{event}]")).unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].error, None, "{outcomes:?}");
    // Outside the fast decoder (NaN, lone surrogates): Python's json decodes the batch.
    let outcomes = engine
        .evaluate_events_json(&format!(
            r#"[{event}, {{"p_log_type": "T.Log", "n": NaN, "lone": "\ud800"}}]"#
        ))
        .unwrap();
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0].error, None, "{outcomes:?}");
    assert!(outcomes[1].error.as_deref().is_some_and(|e| e.starts_with("rule: AssertionError")));
}

#[test]
fn invalid_batches_are_reported_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_with(dir.path(), "pass", "{}");
    for text in [
        "[{\"p_log_type\": \"T.Log\"}",
        "[{\"p_log_type\": \"T.Log\", \"big\": {\"a\": 01}}]",
        "[] []",
        "[{\"p_log_type\": \"T.Log\", \"x\": {\"padding\": \"\u{1}\"}}]",
    ] {
        let err = engine.evaluate_events_json(text).unwrap_err().to_string();
        assert!(err.contains("JSONDecodeError"), "{text}: {err}");
    }
}

#[test]
fn lazy_objects_outside_the_fast_path_open_through_python_json() {
    let dir = tempfile::tempdir().unwrap();
    let checks = r#"assert event.get("big").get("lone") == "\ud800" and event["big"]["pad"] == "y" * 400
assert type(event.get("big")).__name__ == "ImmutableDict" and len(event.get("big")) == 2"#;
    let engine = engine_with(dir.path(), checks, "{}");
    let pad = "y".repeat(400);
    let text =
        format!(r#"[{{"p_log_type": "T.Log", "big": {{"lone": "\ud800", "pad": "{pad}"}}}}]"#);
    let outcomes = engine.evaluate_events_json(&text).unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].error, None, "{outcomes:?}");
}
