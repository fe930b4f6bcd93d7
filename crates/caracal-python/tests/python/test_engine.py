"""The batch loops, alert fields with their fallbacks, and capped output
(python/_caracal_runtime/engine.py, alerts.py, output.py)."""

import contextlib
import io
import json
import unittest

from support import engine_with, runtime

from _caracal_runtime import alerts, output


def alert(entry):
    """An eval_rules entry as {field name: value}."""
    names = alerts.ALERT_FIELDS if len(entry) == len(alerts.ALERT_FIELDS) else alerts.ERROR_FIELDS
    return dict(zip(names, entry))


def eval_rules(engine, events):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        out = engine.eval_rules(json.dumps(events))
    return [alert(e) for e in out], stderr.getvalue()


class AlertFieldsTest(unittest.TestCase):
    def test_defaults_without_optional_functions(self):
        engine = engine_with("rule", "def rule(e):\n    return e.get('hit')\n", det_id="Test.Plain")
        out, _ = eval_rules(engine, [{"p_log_type": "Test.Log", "hit": False}, {"p_log_type": "Test.Log", "hit": True}])
        self.assertEqual(len(out), 1)
        self.assertEqual(out[0]["event"], 1)
        self.assertEqual(out[0]["rule"], 0)
        # Title falls back to the rule id; dedup to title()'s result, else a default.
        self.assertEqual(out[0]["title"], "Test.Plain")
        self.assertEqual(out[0]["dedup"], "defaultDedupString:Test.Plain")
        self.assertIsNone(out[0]["errors"])

    def test_optional_functions_fill_their_fields_by_name(self):
        source = (
            "def rule(e):\n    return True\n"
            "def title(e):\n    return 'T ' + e['who']\n"
            "def dedup(e):\n    return 'x' * 2000\n"
            "def severity(e):\n    return 'high'\n"
            "def alert_context(e):\n    return {'who': e['who']}\n"
            "def destinations(e):\n    return ('slack', 1)\n"
            "def runbook(e):\n    return 7\n"
        )
        out, _ = eval_rules(engine_with("rule", source), [{"p_log_type": "Test.Log", "who": "bob"}])
        a = out[0]
        self.assertEqual(a["title"], "T bob")
        self.assertEqual(a["dedup"], "x" * 1000)
        self.assertEqual(a["severity"], "HIGH")
        self.assertEqual(a["alert_context"], {"who": "bob"})
        self.assertEqual(a["destinations"], ["slack", "1"])
        self.assertEqual(a["runbook"], "7")
        self.assertIsNone(a["description"])

    def test_failing_optional_functions_fall_back_and_are_named(self):
        source = (
            "def rule(e):\n    return True\n"
            "def title(e):\n    raise KeyError('t')\n"
            "def severity(e):\n    return 'URGENT'\n"
            "def alert_context(e):\n    return ['not', 'a', 'mapping']\n"
        )
        out, _ = eval_rules(engine_with("rule", source, det_id="Test.Fallback"), [{"p_log_type": "Test.Log"}])
        a = out[0]
        self.assertEqual(a["title"], "Test.Fallback")
        self.assertEqual(a["dedup"], "defaultDedupString:Test.Fallback")
        self.assertIsNone(a["severity"])
        self.assertIsNone(a["alert_context"])
        self.assertEqual([e.split(":")[0] for e in a["errors"]], ["title", "alert_context", "severity"])

    def test_severity_default_keeps_the_spec_severity(self):
        source = "def rule(e):\n    return True\ndef severity(e):\n    return 'default'\n"
        out, _ = eval_rules(engine_with("rule", source), [{"p_log_type": "Test.Log"}])
        self.assertIsNone(out[0]["severity"])
        self.assertIsNone(out[0]["errors"])

    def test_rule_errors_and_non_bool_results(self):
        source = "def rule(e):\n    if e.get('boom'):\n        raise ValueError('bad')\n    return 'yes'\n"
        out, _ = eval_rules(engine_with("rule", source), [{"p_log_type": "Test.Log", "boom": 1}, {"p_log_type": "Test.Log"}])
        self.assertEqual(out[0], {"event": 0, "rule": 0, "error": "rule: ValueError: bad"})
        self.assertEqual(out[1]["error"], "rule: TypeError: rule() returned str, not bool")

    def test_other_log_types_are_not_routed(self):
        out, _ = eval_rules(engine_with("rule", "def rule(e):\n    return True\n"), [{"p_log_type": "Other"}, {}])
        self.assertEqual(out, [])


class PoliciesTest(unittest.TestCase):
    def test_results_errors_and_suppressions(self):
        source = "def policy(r):\n    if r.get('boom'):\n        raise KeyError('x')\n    return r['ok']\n"
        engine = engine_with("policy", source, log_types=(), resource_types=("AWS.S3.Bucket",), suppressions=("arn:aws:s3:::skip-*",))
        resources = [
            {"ResourceType": "AWS.S3.Bucket", "ResourceId": "arn:aws:s3:::a", "ok": True},
            {"ResourceType": "AWS.S3.Bucket", "ResourceId": "arn:aws:s3:::skip-me", "ok": False},
            {"ResourceType": "AWS.S3.Bucket", "ResourceId": "arn:aws:s3:::b", "boom": True},
            {"ResourceType": "AWS.IAM.User", "ResourceId": "u"},
        ]
        groups, rows, results, errors, suppressed = engine.eval_policies(json.dumps(resources))
        self.assertEqual([groups[g] for g in rows], [[0], [0], [0], []])
        self.assertEqual(results[:2], [True, False])
        self.assertEqual(errors, [(2, "KeyError: 'x'")])
        self.assertEqual(suppressed, [1])

    def test_a_field_a_failed_call_left_unknown_errors_the_policies_that_read_it(self):
        """#11.8b: judged on what was read, never on a missing part."""
        versioning = "def policy(r):\n    return r.get('Versioning') == 'Enabled'\n"
        acl = "def policy(r):\n    return 'Grants' in r and not r['Grants']\n"
        note = {"operation": "s3:GetBucketVersioning", "message": "InternalError", "fields": ["Versioning", "MFADelete"]}
        bucket = {"ResourceType": "AWS.S3.Bucket", "ResourceId": "arn:aws:s3:::a", "Grants": [], "caracal:errors": [note]}
        for source, expected in ((versioning, None), (acl, True)):
            engine = engine_with("policy", source, log_types=(), resource_types=("AWS.S3.Bucket",))
            _, _, results, errors, _ = engine.eval_policies(json.dumps([bucket]))
            if expected is None:
                self.assertEqual(len(errors), 1, errors)
                self.assertIn("UnknownAttribute: Versioning is unknown: s3:GetBucketVersioning failed: InternalError", errors[0][1])
            else:
                self.assertEqual((results, errors), ([expected], []))
        # A note without fields (tags) leaves every read as it was.
        plain = dict(bucket, **{"caracal:errors": [{"operation": "s3:GetBucketTagging", "message": "x"}]})
        engine = engine_with("policy", versioning, log_types=(), resource_types=("AWS.S3.Bucket",))
        _, _, results, errors, _ = engine.eval_policies(json.dumps([plain]))
        self.assertEqual((results, errors), ([False], []))


class OutputTest(unittest.TestCase):
    def test_what_detections_print_goes_to_stderr(self):
        source = "import sys\ndef rule(e):\n    print('to stdout')\n    print('to stderr', file=sys.stderr)\n    return False\n"
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            _, printed = eval_rules(engine_with("rule", source), [{"p_log_type": "Test.Log"}])
        self.assertEqual(stdout.getvalue(), "")
        self.assertEqual(printed, "to stdout\nto stderr\n")

    def test_output_is_capped_per_call_with_a_note(self):
        """#11.3: a detection printing in a loop cannot flood the log."""
        source = "def rule(e):\n    print('x' * 1000)\n    return False\n"
        events = [{"p_log_type": "Test.Log"}] * 100
        _, printed = eval_rules(engine_with("rule", source), events)
        self.assertEqual(printed[: output.LIMIT], (("x" * 1000 + "\n") * 100)[: output.LIMIT])
        dropped = 100 * 1001 - output.LIMIT
        self.assertIn(f"detection output truncated: {dropped} more characters dropped", printed)
        self.assertLess(len(printed), output.LIMIT + 200)
        # The next call prints again.
        _, again = eval_rules(engine_with("rule", source), events[:1])
        self.assertEqual(again, "x" * 1000 + "\n")

    def test_capped_output_counts_characters(self):
        target = io.StringIO()
        out = output.CappedOutput(target, limit=5)
        self.assertEqual(out.write("abc"), 3)
        self.assertEqual(out.write("def"), 3)
        out.write("ghi")
        out.note()
        self.assertTrue(target.getvalue().startswith("abcde\n[caracal] detection output truncated: 4 more"))
        with self.assertRaises(TypeError):
            out.write(b"bytes")


class TestRunnerTest(unittest.TestCase):
    def test_mocks_and_optional_checks(self):
        source = (
            "def lookup():\n    return 'real'\n"
            "def rule(e):\n    return lookup() == 'mocked'\n"
            "def alert_context(e):\n    return {'x': object()}\n"
            "def destinations(e):\n    return 'not a list'\n"
        )
        engine = engine_with("rule", source)
        tests = [
            {"Name": "mocked", "ExpectedResult": True, "Log": {}, "Mocks": [{"objectName": "lookup", "returnValue": "mocked"}]},
            {"Name": "bad mock", "ExpectedResult": False, "Log": {}, "Mocks": [{"objectName": "nope", "returnValue": 1}]},
            {"Name": "plain", "ExpectedResult": False, "Log": {}},
        ]
        results = json.loads(runtime.run_tests(engine, "rule", 0, json.dumps(tests)))
        self.assertEqual([r["passed"] for r in results], [False, False, True])
        # As panther-analysis-tool: an alert context JSON cannot hold fails the test.
        self.assertEqual(
            results[0]["errors"],
            [
                ["alert_context", "TypeError: object of type <class 'object'> is not JSON serializable"],
                ["destinations", "TypeError: destinations() returned str, not a list"],
            ],
        )
        self.assertEqual(results[1]["errors"][0][0], "mocks")


if __name__ == "__main__":
    unittest.main()
