"""The embedded tests of one detection (`caracal test`, src/testing.rs): each with its
Mocks, a fresh key-value store, and the checks production applies to optional results."""

import json
from collections.abc import Mapping
from unittest import mock

from . import backends
from .alerts import check_value
from .lazy import json_encoder, json_text
from .output import capped
from .watchdog import describe, guarded


def run_tests(engine, kind, index, tests_json):
    """Runs the Tests of the engine's policy or rule at `index`; returns JSON
    [{name, passed, actual, errors}]."""
    det = engine.detection(kind, index)
    results = []
    production_kv = backends.kv[0]
    try:
        with capped():
            for test in json.loads(tests_json):
                results.append(run_test(engine, det, test))
    finally:
        backends.kv[0] = production_kv
    return json.dumps(results, default=json_text)


def _short(value):
    """`repr(value)`, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_optional(name, value):
    check_value(name, value)
    if name == "alert_context" and isinstance(value, Mapping):
        # As panther-analysis-tool: what JSON cannot hold (a datetime, a set) fails.
        json.dumps(value, default=json_encoder, allow_nan=False)


def run_test(engine, det, test):
    """One test case: {name, passed, actual, errors: [[function, "Type: message"]]}."""
    name = test.get("Name", "<unnamed>")
    expected = test.get("ExpectedResult")
    errors = []
    backends.kv[0] = backends.MemoryKv()
    payload = test.get("Resource") if det.kind == "policy" else test.get("Log")
    if payload is None:
        payload = test.get("Log") if det.kind == "policy" else test.get("Resource")
    subject = engine.test_subject(det, payload)
    patches = []
    try:
        for m in test.get("Mocks") or ():
            target = m.get("objectName")
            if not hasattr(det.module, target):
                raise AttributeError(f"mock target {target!r} is not a name in {det.id}")
            patches.append(mock.patch.object(det.module, target, mock.MagicMock(return_value=m.get("returnValue"))))
        for p in patches:
            p.start()
    except BaseException as exc:  # noqa: BLE001
        for p in patches:
            try:
                p.stop()
            except RuntimeError:
                pass
        return {"name": name, "passed": False, "actual": None, "errors": [["mocks", describe(exc)]]}
    actual = None
    outputs = []
    try:
        try:
            actual = guarded(det.main, subject)
        except BaseException as exc:  # noqa: BLE001
            errors.append([det.kind, describe(exc)])
        else:
            if not isinstance(actual, bool):
                # Fails this test only (#15.7); the report carries no non-bool result.
                errors.append([det.kind, f"TypeError: {det.kind}() returned {type(actual).__name__} {_short(actual)}, not bool"])
                actual = None
        # As panther-analysis-tool: the alert's functions run and print when the test
        # expects an alert (a rule True, a policy False), whatever the result was, so a
        # failing test shows what its alert would have been.
        expects_alert = (expected is True) if det.kind == "rule" else (expected is False)
        # A function that raises is reported beside the others' results, which print
        # as usual (as the reference prints them).
        if expects_alert:
            values = {}
            for fname, fn in det.optional.items():
                try:
                    value = guarded(fn, subject)
                    _check_optional(fname, value)
                    values[fname] = value
                except BaseException as exc:  # noqa: BLE001
                    errors.append([fname, describe(exc)])
            failed = {fname for fname, _ in errors}
            outputs.extend(_outputs(det, values, failed))
    finally:
        for p in reversed(patches):
            p.stop()
    passed = not errors and actual == expected
    if actual is not None:
        outputs.insert(0, [det.kind, "true" if actual else "false"])
    return {"name": name, "passed": passed, "actual": actual, "errors": errors, "outputs": outputs}


# The order and names panther-analysis-tool prints an alert's function results in
# (destinations are checked, not printed: it prints none without configured ones).
_PRINTED = (
    ("title", "title"), ("dedup", "dedup"), ("alert_context", "alertContext"),
    ("description", "description"), ("reference", "reference"), ("severity", "severity"),
    ("runbook", "runbook"),
)


def _outputs(det, values, failed=()):
    """[[function, text]] of an alert's optional results as the reference runner prints
    them: dedup always (falling back to the title, then `defaultDedupString:<id>`) unless
    it raised, severity upper-cased (not at all for DEFAULT), alert context as JSON.
    Functions in `failed` raised: their errors print instead."""
    out = []
    for fname, printed in _PRINTED:
        if fname in failed:
            continue
        if fname == "dedup":
            value = values.get("dedup") or values.get("title") or f"defaultDedupString:{det.id}"
        elif fname not in values:
            continue
        else:
            value = values[fname]
        if fname == "alert_context":
            text = json.dumps(value, default=json_text)
        elif fname == "severity":
            text = str(value).upper()
            if text == "DEFAULT":
                continue  # the spec's severity stands; the reference prints nothing
        else:
            text = str(value)
        out.append([printed, text])
    return out
