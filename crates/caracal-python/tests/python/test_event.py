"""PantherEvent and data models (python/_caracal_runtime/event.py)."""

import json
import pickle
import unittest

from support import runtime

from _caracal_runtime.event import DataModel, PantherError, PantherEvent, compile_path, event_class, follow


def event(value, model=None):
    return PantherEvent(runtime.loads(json.dumps(value)), model)


class GetTest(unittest.TestCase):
    def test_get_and_deep_get(self):
        e = event({"a": {"b": {"c": 0}}, "n": None, "s": "x"})
        self.assertEqual(e.get("s"), "x")
        self.assertIsNone(e.get("missing"))
        self.assertEqual(e.deep_get("a", "b", "c"), 0)
        self.assertEqual(e.deep_get("a", "missing", default=7), 7)
        self.assertEqual(e.deep_get("n", default="d"), "d")
        # A step through a non-mapping gives the default, never raises.
        self.assertEqual(e.deep_get("s", "x", default="d"), "d")

    def test_deep_walk_descends_into_lists_and_dedups(self):
        e = event({"items": [{"id": 1}, {"id": 2}, {"id": 1}, {"other": 3}], "one": [{"id": 5}]})
        self.assertEqual(e.deep_walk("items", "id"), [1, 2])
        self.assertEqual(e.deep_walk("one", "id"), 5)
        self.assertEqual(e.deep_walk("items", "id", return_val="first"), 1)
        self.assertEqual(e.deep_walk("items", "id", return_val="last"), 2)
        self.assertEqual(e.deep_walk("items", "nope", default="d"), "d")

    def test_is_immutable_and_pickles(self):
        e = event({"a": 1})
        with self.assertRaises(TypeError):
            e["a"] = 2
        back = pickle.loads(pickle.dumps(e))
        self.assertIsInstance(back, PantherEvent)
        self.assertEqual(back, {"a": 1})

    def test_event_time_epoch(self):
        self.assertEqual(event({"p_event_time": "2019-01-01 00:00:00.000"}).event_time_epoch(), 1546300800)
        self.assertEqual(event({"p_event_time": "2019-01-01T00:00:00Z"}).event_time_epoch(), 1546300800)
        self.assertEqual(event({}).event_time_epoch(), 0)


class DataModelTest(unittest.TestCase):
    def model(self):
        module = type(unittest)("model_methods")

        def get_actor(e):
            return "actor:" + e.deep_get("userIdentity", "arn", default="?")

        module.get_actor = get_actor
        return DataModel(
            "Test.Model",
            [
                {"Name": "source_ip", "Path": "sourceIPAddress"},
                {"Name": "first_key", "Path": "$.resources[0].ARN"},
                {"Name": "all_keys", "Path": "$.resources[*].ARN"},
                {"Name": "quoted", "Path": "$['odd.key']"},
                {"Name": "actor", "Method": "get_actor"},
            ],
            module,
        )

    def test_udm_reads_paths_and_methods(self):
        model = self.model()
        e = event(
            {
                "sourceIPAddress": "1.2.3.4",
                "resources": [{"ARN": "a"}, {"ARN": "b"}, {"x": 1}],
                "odd.key": "q",
                "userIdentity": {"arn": "arn:x"},
                "p_udm": {"fallback": "udm"},
                "plain": "p",
            },
            model,
        )
        self.assertEqual(e.udm("source_ip"), "1.2.3.4")
        self.assertEqual(e.udm("first_key"), "a")
        with self.assertRaisesRegex(Exception, "matched multiple fields"):
            e.udm("all_keys")  # as panther_core: several matches are an error
        self.assertEqual(e.udm("quoted"), "q")
        self.assertEqual(e.udm("actor"), "actor:arn:x")
        # Unmapped names: p_udm first, then the event itself.
        self.assertEqual(e.udm("fallback"), "udm")
        self.assertEqual(e.udm("plain"), "p")
        self.assertEqual(e.udm("nothing", default="d"), "d")
        self.assertEqual(e.udm_path("first_key"), "resources.[0].ARN")  # as Panther prints it
        self.assertEqual(e.udm_path("actor"), "get_actor")
        self.assertIsNone(e.udm_path("unmapped"))

    def test_a_mapped_path_that_finds_nothing_gives_the_default(self):
        e = event({"plain": "p"}, self.model())
        self.assertEqual(e.udm("source_ip", default="d"), "d")

    def test_udm_path_without_a_model_raises(self):
        with self.assertRaises(PantherError):
            event({"p_log_type": "X"}).udm_path("source_ip")

    def test_a_missing_method_is_an_error(self):
        with self.assertRaises(ValueError):
            DataModel("Bad", [{"Name": "x", "Method": "nope"}], None)

    def test_one_class_per_model_and_a_class_swap_makes_an_event(self):
        model = self.model()
        cls = event_class(model)
        self.assertIs(event_class(model), cls)
        self.assertIs(event_class(None), PantherEvent)
        self.assertEqual(cls.__name__, "PantherEvent")
        d = runtime.loads('{"sourceIPAddress": "1.2.3.4"}')
        d.__class__ = cls
        self.assertEqual(d.udm("source_ip"), "1.2.3.4")

    def test_compile_path(self):
        self.assertEqual(compile_path("plain.key"), ["plain.key"])
        self.assertEqual(compile_path("$.a[0]['b']"), ["a", 0, "b"])
        with self.assertRaises(ValueError):
            compile_path("$.a[?(@.x > 1)]")
        self.assertIsNone(follow({"a": []}, compile_path("$.a[3]")))


if __name__ == "__main__":
    unittest.main()
