"""Behaviour public panther-analysis detections rely on, each as the reference event and
test runner behave (issue #15): one test per difference found."""

import json
import unittest

from support import engine_with, runtime

from _caracal_runtime import lazy
from _caracal_runtime.event import DataModel, PantherEvent


def event(value, model=None):
    return PantherEvent(runtime.loads(json.dumps(value)), model)


def run_tests(engine, kind, tests):
    return json.loads(runtime.run_tests(engine, kind, 0, json.dumps(tests)))


class GetKeywordDefaultTest(unittest.TestCase):
    """#15.1: `get(key, default=...)` as well as by position, on nested objects too."""

    def test_keyword_default(self):
        e = event({"a": {"b": 1}, "n": None})
        self.assertEqual(e.get("missing", default="d"), "d")
        self.assertEqual(e.get("missing", "d"), "d")
        self.assertEqual(e.get("a", default={}), {"b": 1})
        self.assertIsNone(e.get("n", default="d"))  # present, None: like dict.get
        self.assertEqual(e["a"].get("x", default=0), 0)

    def test_keyword_default_on_a_lazy_object(self):
        obj = dict.__new__(runtime.LazyDict)
        dict.__setitem__(obj, runtime.RAW, '{"k": 1}')
        self.assertEqual(obj.get("z", default=5), 5)
        self.assertEqual(obj.get("k", default=5), 1)

    def test_through_a_detection(self):
        engine = engine_with("rule", "def rule(e):\n    return e.get('missing', default='x') == 'x'\n")
        [result] = run_tests(engine, "rule", [{"Name": "kw", "ExpectedResult": True, "Log": {}}])
        self.assertTrue(result["passed"], result)


class DeepWalkListTest(unittest.TestCase):
    """#15.2: a path that ends on a list returns the list, even of one element."""

    def test_one_element_list_is_returned_as_a_list(self):
        e = event({"protoPayload": {"authorizationInfo": [{"permission": "p", "granted": True}]}})
        self.assertEqual(e.deep_walk("protoPayload", "authorizationInfo"), [{"permission": "p", "granted": True}])
        # Descending through the list into a key still gives the one value found.
        self.assertEqual(e.deep_walk("protoPayload", "authorizationInfo", "permission"), "p")

    def test_lists_of_values_are_spread_and_deduplicated(self):
        e = event({"a": [{"b": [1, 2]}, {"b": [2, 3]}], "c": {"d": [7]}, "e": [[], []]})
        self.assertEqual(e.deep_walk("a", "b"), [1, 2, 3])
        self.assertEqual(e.deep_walk("c", "d"), [7])
        self.assertEqual(e.deep_walk("e", default="d"), "d")  # only empty lists
        self.assertEqual(e.deep_walk("a", "b", return_val="last"), 3)
        self.assertEqual(e.deep_walk("a", "zz", default="d"), "d")


class CaseInsensitiveLookupTest(unittest.TestCase):
    """#15.3: a lookup that misses the exact key finds it in another case."""

    def test_get_item_and_contains_fall_back_on_a_miss(self):
        e = event({"eventSource": "s3.amazonaws.com", "userIdentity": {"accountId": "1"}})
        self.assertEqual(e.get("eventsource"), "s3.amazonaws.com")
        self.assertEqual(e["EVENTSOURCE"], "s3.amazonaws.com")
        self.assertIn("eventsource", e)
        self.assertEqual(e.deep_get("useridentity", "AccountID"), "1")
        self.assertIsNone(e.get("errorCode"))
        self.assertNotIn("errorCode", e)
        with self.assertRaises(KeyError):
            e["errorCode"]

    def test_exact_key_wins_and_first_variant_in_order(self):
        e = event({"Key": 1, "key": 2, "KEY": 3})
        self.assertEqual(e["key"], 2)
        self.assertEqual(e.get("kEy"), 1)

    def test_fold_cache_is_bounded(self):
        for i in range(lazy._FOLDS_MAX + 10):
            lazy.fold_key(runtime.ImmutableDict({f"k{i}": i}), "x")
        self.assertLessEqual(len(lazy._FOLDS), lazy._FOLDS_MAX)


class UdmPathTest(unittest.TestCase):
    """#15.4: `udm_path` is where the mapped field is in this event, dotted as Panther
    prints it (no JSONPath `$.`); None when the path finds nothing."""

    def test_dotted_path(self):
        model = DataModel(
            "M",
            [
                {"Name": "source_ip", "Path": "$.client.ipAddress"},
                {"Name": "plain", "Path": "srcIp"},
                {"Name": "first", "Path": "$.resources[0].ARN"},
                {"Name": "each", "Path": "$.items[*].id"},
            ],
            None,
        )
        e = event({"client": {"ipAddress": "1.2.3.4"}, "srcIp": "5", "resources": [{"ARN": "a"}], "items": [{"id": 1}, {"id": 2}]}, model)
        self.assertEqual(e.udm_path("source_ip"), "client.ipAddress")
        self.assertEqual(e.udm_path("plain"), "srcIp")
        self.assertEqual(e.udm_path("first"), "resources.[0].ARN")
        self.assertEqual(e.udm("source_ip"), "1.2.3.4")
        with self.assertRaises(runtime.event.PantherError):
            e.udm_path("each")  # several matches, as Panther refuses
        self.assertIsNone(event({}, model).udm_path("source_ip"))


class JsonPathFilterTest(unittest.TestCase):
    """Data model paths with jsonpath-ng's filters, as panther-analysis's GSuite model
    writes them: one match is its value, several an error, none the default."""

    def test_filters_pick_list_elements(self):
        model = DataModel(
            "M",
            [
                {"Name": "role", "Path": "$.events[*].parameters[?(@.name == 'ROLE_NAME')].value"},
                {"Name": "not_one", "Path": "$.items[?(@.n != 1)].id"},
                {"Name": "flagged", "Path": "$.items[?(@.flag)].id"},
                {"Name": "ids", "Path": "$.items[*].id"},
                {"Name": "nested", "Path": '$.items[?(@.meta.kind == "x")].id'},
            ],
            None,
        )
        params = [{"name": "USER_EMAIL", "value": "a@example.com"}, {"name": "ROLE_NAME", "value": "admin"}]
        items = [{"id": 1, "n": 1}, {"id": 2, "n": 2, "flag": False}, {"id": 3, "meta": {"kind": "x"}}]
        e = event({"events": [{"name": "ASSIGN_ROLE", "parameters": params}], "items": items}, model)
        self.assertEqual(e.udm("role"), "admin")
        self.assertEqual(e.udm_path("role"), "events.[0].parameters.[1].value")
        # As jsonpath-ng up to 1.7 (1.17 follows RFC 9535 here): an element without
        # the key matches neither == nor !=.
        self.assertEqual(e.udm("not_one"), 2)
        self.assertEqual(e.udm("flagged"), 2)
        # As panther-analysis-tool: several matches are an error (its words).
        with self.assertRaisesRegex(Exception, r"^JSONPath \[\$\.items\.\[\*\]\.id\] in DataModel \[M\], matched multiple fields\.$"):
            e.udm("ids")
        bools = DataModel("B", [{"Name": "one", "Path": "$.l[?(@.v == 1)].id"}], None)
        self.assertEqual(event({"l": [{"id": "t", "v": True}, {"id": "n", "v": 1}]}, bools).udm("one"), "n")
        self.assertEqual(e.udm("nested"), 3)
        self.assertEqual(event({"events": []}, model).udm("role", default="none"), "none")
        with self.assertRaises(ValueError):
            DataModel("Bad", [{"Name": "x", "Path": "$.a[?(@.b > 1)]"}], None)


class DataModelCaseTest(unittest.TestCase):
    """Data model paths are case-sensitive, as panther-analysis-tool's JSONPath over the
    plain event; `event.get` still falls back to another case."""

    def test_paths_take_the_exact_key(self):
        model = DataModel("M", [{"Name": "source_ip", "Path": "srcAddr"}, {"Name": "nested", "Path": "$.a.B"}], None)
        e = event({"srcaddr": "1.2.3.4", "a": {"b": 1}}, model)
        self.assertIsNone(e.udm("source_ip"))
        self.assertIsNone(e.udm("nested"))
        self.assertEqual(e.get("srcAddr"), "1.2.3.4")
        self.assertEqual(event({"srcAddr": "5.6.7.8", "a": {"B": 2}}, model).udm("source_ip"), "5.6.7.8")
        self.assertEqual(event({"srcAddr": "5.6.7.8", "a": {"B": 2}}, model).udm("nested"), 2)


class LookupTest(unittest.TestCase):
    """`event.lookup(table, key)` (panther_aws_helpers.lookup_aws_account_name): rows
    mocked in the event as panther-analysis-tool reads them, else None."""

    def test_mocked_lookup_data(self):
        e = event({"_mocked_lookup_data_": {"aws_account_names": {"123": "prod"}}})
        self.assertEqual(e.lookup("aws_account_names", "123"), "prod")
        self.assertIsNone(e.lookup("aws_account_names", "456"))
        self.assertIsNone(event({}).lookup("t", "k"))
        self.assertEqual(e.raw_view(), e)
        self.assertIs(type(e.raw_view()), dict)


class PantherCoreSubmodulesTest(unittest.TestCase):
    """#15.6: the panther_core submodules public detections import."""

    def test_imports(self):
        from panther_core import PantherEvent as Top
        from panther_core.data_model import DataModel as DM
        from panther_core.enriched_event import PantherEvent as Enriched
        from panther_core.exceptions import PantherError
        from panther_core.immutable import ImmutableCaseInsensitiveDict, ImmutableList, json_encoder

        self.assertIs(Top, Enriched)
        self.assertIs(DM, DataModel)
        self.assertTrue(issubclass(PantherError, Exception))
        e = event({"a": {"B": 1}, "l": [1, 2]})
        self.assertIsInstance(e["a"], ImmutableCaseInsensitiveDict)
        self.assertIsInstance(e["l"], ImmutableList)
        wrapped = ImmutableList([1, {"x": 2}])
        self.assertEqual(wrapped, [1, {"x": 2}])
        self.assertEqual(json.dumps({"w": wrapped}, default=json_encoder), '{"w": [1, {"x": 2}]}')
        with self.assertRaises(TypeError):
            json_encoder(object())
        self.assertEqual(ImmutableCaseInsensitiveDict({"Ab": 1}).get("ab"), 1)
        # Public data models import the event class from panther-analysis-tool's package.
        from panther_analysis_tool.enriched_event import PantherEvent as FromTool

        self.assertIs(FromTool, Enriched)


class ImmutableListTest(unittest.TestCase):
    """Lists of events are Panther's ImmutableList: a sequence, but not a `list` (rules
    written for Panther branch on that); policies' resources keep plain lists. Each
    expectation is what panther-analysis-tool 1.11.1 gives."""

    def test_sequence_not_list(self):
        from collections.abc import Sequence

        e = event({"l": [1, 2], "o": {"n": [{"k": [3]}]}})
        value = e["l"]
        self.assertNotIsInstance(value, list)
        self.assertNotIsInstance(value, tuple)
        self.assertIsInstance(value, Sequence)
        self.assertNotIsInstance(e["o"]["n"][0]["k"], list)
        self.assertIs(type(e.get("l")), type(value))
        self.assertEqual(repr(value), "ImmutableList((1, 2))")
        self.assertEqual(f"{value}", "ImmutableList((1, 2))")
        self.assertTrue(value == [1, 2] and [1, 2] == value and value == (1, 2))
        self.assertFalse(value == "x" or value != [1, 2] or value == [1])
        self.assertEqual(value[0:1], (1,))
        self.assertIs(type(value[0:1]), tuple)
        self.assertEqual((len(value), 2 in value, value.index(2), value.count(1)), (2, True, 1, 1))
        self.assertEqual((list(reversed(value)), sorted(value, reverse=True)), ([2, 1], [2, 1]))
        self.assertFalse(event({"l": []})["l"])
        self.assertEqual(repr(event({"l": [[1], {"a": [2]}]})["l"]), "ImmutableList(([1], {'a': [2]}))")
        with self.assertRaises(TypeError):
            value + [3]  # noqa: B018
        with self.assertRaises(AttributeError):
            value.append(3)
        with self.assertRaises(TypeError):
            hash(value)
        with self.assertRaises(TypeError):
            json.dumps(value)

    def test_copies_and_json(self):
        from panther_core.immutable import json_encoder

        e = event({"l": [{"a": [1]}]})
        copy = e["l"].copy()
        self.assertEqual(copy, [{"a": [1]}])
        self.assertIs(type(copy), list)
        self.assertIs(type(copy[0]["a"]), list)
        self.assertEqual(e["l"].as_list(), copy)
        self.assertEqual(json.dumps(e["l"], default=json_encoder), '[{"a": [1]}]')
        self.assertIs(type(e.to_dict()["l"]), list)
        # copy() and raw_view() are plain too, as Panther's; its json_encoder is there.
        self.assertIs(type(e.copy()["l"]), list)
        self.assertIs(type(e.raw_view()["l"][0]["a"]), list)
        self.assertEqual(json.dumps(e["l"], default=type(e).json_encoder), '[{"a": [1]}]')
        self.assertEqual(json.dumps(e["l"], default=e.json_encoder), '[{"a": [1]}]')
        self.assertIs(type(e["l"][0:1][0]["a"]), list)  # a slice holds the raw items
        self.assertIsInstance(lazy.ImmutableList([[1]])[0], lazy.ImmutableList)

    def test_deep_walk_gives_plain_values(self):
        # Panther's deep_walk walks the raw event: a list or object it ends on is plain.
        e = event({"p": {"infos": [{"perm": "a"}], "d": {"x": [1]}}})
        infos = e.deep_walk("p", "infos")
        self.assertIs(type(infos), list)
        self.assertEqual(infos, [{"perm": "a"}])
        self.assertIs(type(e.deep_walk("p", "d")["x"]), list)
        self.assertEqual(e.deep_walk("p", "infos", "perm"), "a")
        self.assertNotIsInstance(e.deep_get("p", "infos"), list)

    def test_every_decoding_path(self):
        # The Python decoder (text outside the Rust fast path, lazy objects it opens).
        self.assertNotIsInstance(lazy.event_loads('{"a": [1, NaN]}')["a"], list)
        self.assertIsInstance(lazy.loads('{"a": [1]}')["a"], list)
        obj = dict.__new__(lazy.LazyEventDict)
        dict.__setitem__(obj, lazy.RAW, '{"k": [1]}')
        self.assertIsInstance(obj["k"], lazy.ImmutableList)
        plain = dict.__new__(lazy.LazyDict)
        dict.__setitem__(plain, lazy.RAW, '{"k": [1]}')
        self.assertIsInstance(plain["k"], list)

    def test_through_the_test_runner(self):
        source = (
            "def rule(e):\n    return not isinstance(e.get('l'), list)\n"
            "def title(e):\n"
            "    return f\"{e.get('l')} {isinstance(e.get('l'), list)} {e.deep_walk('l')} {e.get('l')[0:1]!r}\"\n"
            "def alert_context(e):\n    return {'l': e.get('l')}\n"
        )
        engine = engine_with("rule", source)
        [result] = run_tests(engine, "rule", [{"Name": "l", "ExpectedResult": True, "Log": {"l": [1, 2]}}])
        self.assertTrue(result["passed"], result)
        outputs = dict(result["outputs"])
        self.assertEqual(outputs["title"], "ImmutableList((1, 2)) False [1, 2] (1,)")
        self.assertEqual(json.loads(outputs["alertContext"]), {"l": [1, 2]})

    def test_policies_keep_lists(self):
        engine = engine_with("policy", "def policy(r):\n    return isinstance(r['l'], list)\n")
        [result] = run_tests(engine, "policy", [{"Name": "l", "ExpectedResult": True, "Resource": {"l": [1]}}])
        self.assertTrue(result["passed"], result)


class NonBoolResultTest(unittest.TestCase):
    """#15.7: a rule returning a non-bool fails its test only, with the value named."""

    def test_non_bool_fails_the_test(self):
        engine = engine_with("rule", "def rule(e):\n    return e.get('r')\n")
        tests = [
            {"Name": "string", "ExpectedResult": True, "Log": {"r": "yes"}},
            {"Name": "dict", "ExpectedResult": True, "Log": {"r": {"a": 1}}},
            {"Name": "bool", "ExpectedResult": True, "Log": {"r": True}},
        ]
        out = run_tests(engine, "rule", tests)
        self.assertEqual([r["passed"] for r in out], [False, False, True])
        self.assertIsNone(out[0]["actual"])
        self.assertIn("returned str 'yes', not bool", out[0]["errors"][0][1])
        self.assertIn("returned ImmutableDict", out[1]["errors"][0][1])


if __name__ == "__main__":
    unittest.main()
