"""Rule gates (python/_caracal_runtime/gates.py) and the batch loop that uses them: a gated
rule is skipped only where it would have returned False, never where it would match or
raise."""

import json
import unittest

from support import runtime

from _caracal_runtime import imports
from _caracal_runtime.alerts import ALERT_FIELDS, ERROR_FIELDS

HELPERS = (
    '"""Shared helpers."""\n'
    "def succeeded(event):\n    return not event.get('errorCode')\n\n"
    "def api_call(event, source, names):\n"
    '    """A successful call of one of names on source."""\n'
    "    return event.get('eventSource') == source and event.get('eventName') in names and succeeded(event)\n"
)


def engine(*sources, log_type="Test.Log"):
    e = runtime.Engine()
    for i, source in enumerate(sources):
        e.add_detection("rule", f"Test.R{i}", "INFO", source, f"<test>/r{i}.py", [], [log_type], [])
    return e


def gates(*sources):
    e = engine(*sources)
    return [None if d.gate is None else {k: sorted(v) for k, v in d.gate.items()} for d in e.rules]


def run(e, events):
    out = e.eval_rules(json.dumps(events))
    return [dict(zip(ALERT_FIELDS if len(x) == len(ALERT_FIELDS) else ERROR_FIELDS, x)) for x in out]


class GateReadingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        imports.set_globals([("test_gate_helpers", HELPERS, "<test>/test_gate_helpers.py")])

    @classmethod
    def tearDownClass(cls):
        imports.set_globals([])

    def test_leading_pure_tests_become_gates(self):
        found = gates(
            "def rule(event):\n    if event.get('eventName') != 'A' or not event.get('x'):\n        return False\n    return True\n",
            "NAMES = {'B', 'C'}\ndef rule(e):\n    return e.get('eventSource') == 's' and e.get('eventName') in NAMES and e['x']\n",
            "def rule(e):\n    '''Doc.'''\n    return 'D' == e.get('eventName')\n",
            "from test_gate_helpers import api_call\n"
            "def rule(e):\n    if not api_call(e, 'iam', ('E', 'F')):\n        return False\n    return True\n",
            "def rule(e):\n    return e.get('eventName') not in {'G'}\n",
        )
        self.assertEqual(found[0], {"eventName": ["A"]})
        self.assertEqual(found[1], {"eventName": ["B", "C"], "eventSource": ["s"]})
        self.assertEqual(found[2], {"eventName": ["D"]})
        self.assertEqual(found[3], {"eventName": ["E", "F"], "eventSource": ["iam"]})
        self.assertIsNone(found[4])  # `not in` in a return admits everything else

    def test_anything_uncertain_gives_no_gate(self):
        found = gates(
            # A test that can raise comes first: skipping would hide its error.
            "def rule(e):\n    return e['x'] and e.get('eventName') == 'A'\n",
            # Subscript, default argument, non-string constant, mutable call.
            "def rule(e):\n    return e['eventName'] == 'A'\n",
            "def rule(e):\n    return e.get('eventName', 'A') == 'A'\n",
            "def rule(e):\n    return e.get('n') == 1\n",
            "def rule(e):\n    return e.get('eventName') in compute()\ndef compute():\n    return {'A'}\n",
            # Substring, not membership.
            "S = 'ABC'\ndef rule(e):\n    return e.get('eventName') in S\n",
            # Redefined, decorated.
            "def rule(e):\n    return e.get('eventName') == 'A'\nrule = lambda e: True\n",
            "import functools\n@functools.lru_cache\ndef rule(e):\n    return e.get('eventName') == 'A'\n",
            # `if` with an else, or not returning False.
            "def rule(e):\n    if e.get('eventName') != 'A':\n        return None\n    return True\n",
            # Constants that may change after compiling: mutated, rebound, global.
            "W = []\ndef rule(e):\n    if e.get('eventName') not in W:\n        W.append(e.get('eventName'))\n        return False\n    return True\n",
            "N = {'A'}\nN = {'B'}\ndef rule(e):\n    return e.get('eventName') in N\n",
            "N = ('A',)\ndef grow():\n    global N\n    N = N + ('B',)\ndef rule(e):\n    return e.get('eventName') in N\n",
            # A str subclass may compare equal to other text.
            "class CI(str):\n    def __eq__(self, o):\n        return str(o).lower() == self.lower()\n    __hash__ = str.__hash__\n"
            "NAME = CI('a')\ndef rule(e):\n    return e.get('eventName') == NAME\n",
            # A generator returns an object, not False.
            "def rule(e):\n    return e.get('eventName') == 'A'\n    yield\n",
        )
        self.assertEqual(found, [None] * len(found))


class GatedBatchTest(unittest.TestCase):
    def test_gated_rules_match_exactly_as_ungated_ones(self):
        sources = [
            "def rule(e):\n    return e.get('eventName') == 'A'\n",
            "def rule(e):\n    if e.get('eventName') not in ('A', 'B'):\n        return False\n    return e.get('ok') is True\n",
            "def rule(e):\n    return True\n",
            "def rule(e):\n    return e.get('eventName') in {'Z'}\n",
        ]
        events = [
            {"p_log_type": "Test.Log", "eventName": name, "ok": ok}
            for name in ("A", "B", "C", None, 3)
            for ok in (True, False)
        ] + [{"p_log_type": "Test.Log"}]
        gated = run(engine(*sources), events)
        # Precise mode runs every rule on every event (no gates): the reference.
        reference_engine = engine(*sources)
        reference_engine.configure([], True)
        reference = run(reference_engine, events)
        key = lambda a: (a["event"], a["rule"])  # noqa: E731
        self.assertEqual(sorted(map(key, gated)), sorted(map(key, reference)))
        self.assertEqual(len(gated), 2 + 2 + len(events))

    def test_an_unhashable_value_runs_the_rule_which_raises(self):
        e = engine("def rule(e):\n    return e.get('eventName') in {'A'}\n")
        out = run(e, [{"p_log_type": "Test.Log", "eventName": ["A"]}, {"p_log_type": "Test.Log", "eventName": "A"}])
        self.assertEqual(len(out), 2)
        self.assertIn("TypeError", out[0]["error"])
        self.assertEqual(out[1]["event"], 1)


if __name__ == "__main__":
    unittest.main()
