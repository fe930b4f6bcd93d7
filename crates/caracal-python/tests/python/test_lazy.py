"""ImmutableDict and LazyDict (python/_caracal_runtime/lazy.py)."""

import copy
import json
import pickle
import unittest

from support import runtime

from _caracal_runtime import lazy


class ImmutableDictTest(unittest.TestCase):
    def test_refuses_every_write(self):
        d = runtime.loads('{"a": {"b": [1, {"c": 2}]}}')
        writes = [
            lambda: d.__setitem__("x", 1),
            lambda: d.__delitem__("a"),
            d.clear,
            lambda: d.pop("a"),
            d.popitem,
            lambda: d.setdefault("x", 1),
            lambda: d.update(x=1),
            lambda: d["a"].update(x=1),
            lambda: d["a"]["b"][1].__setitem__("c", 3),
        ]
        for write in writes:
            with self.assertRaises(TypeError):
                write()
        d2 = d
        with self.assertRaises(TypeError):
            d2 |= {"x": 1}

    def test_to_dict_is_a_mutable_deep_copy(self):
        d = runtime.loads('{"a": {"b": [1, {"c": 2}]}}')
        thawed = d.to_dict()
        self.assertIs(type(thawed), dict)
        self.assertIs(type(thawed["a"]["b"][1]), dict)
        thawed["a"]["b"][1]["c"] = 3
        self.assertEqual(d["a"]["b"][1]["c"], 2)

    def test_copies_are_itself_and_pickling_round_trips(self):
        d = runtime.loads('{"a": {"b": 1}}')
        self.assertIs(copy.copy(d), d)
        self.assertIs(copy.deepcopy(d), d)
        back = pickle.loads(pickle.dumps(d))
        self.assertEqual(back, d)
        self.assertIsInstance(back, runtime.ImmutableDict)


class LazyDictTest(unittest.TestCase):
    def lazy(self, value):
        obj = dict.__new__(runtime.LazyDict)
        dict.__setitem__(obj, runtime.RAW, json.dumps(value))
        return obj

    def test_every_reading_method_opens_it(self):
        value = {"userName": "alice", "n": {"deep": [1, 2]}}
        reads = [
            lambda o: o.get("userName"),
            lambda o: o["userName"],
            lambda o: "userName" in o,
            lambda o: list(o),
            lambda o: list(reversed(o)),
            len,
            lambda o: list(o.keys()),
            lambda o: list(o.values()),
            lambda o: list(o.items()),
            lambda o: o.copy(),
            lambda o: o | {},
            lambda o: {} | o,
            repr,
            lambda o: o == value,
            lambda o: o != value,
            lambda o: json.dumps(o),
            lambda o: pickle.dumps(o),
        ]
        for read in reads:
            obj = self.lazy(value)
            self.assertEqual(type(obj).__name__, "ImmutableDict")
            read(obj)
            self.assertIs(type(obj), runtime.ImmutableDict)
            self.assertEqual(obj, value)
            self.assertNotIn(runtime.RAW, dict.keys(obj))
            self.assertIsInstance(obj["n"], runtime.ImmutableDict)

    def test_two_lazy_objects_compare_by_content(self):
        self.assertEqual(self.lazy({"a": 1}), self.lazy({"a": 1}))
        self.assertNotEqual(self.lazy({"a": 1}), self.lazy({"a": 2}))

    def test_a_fill_function_decodes_when_it_can(self):
        calls = []

        def fill(target, text, events):
            calls.append(text)
            if text.startswith('{"fast"'):
                dict.__delitem__(target, runtime.RAW)
                dict.update(target, {"fast": "filled"})
                return True
            return False

        previous = lazy._fill
        runtime.set_fill(fill)
        try:
            fast, slow = self.lazy({"fast": 1}), self.lazy({"slow": 1})
            self.assertEqual(fast["fast"], "filled")
            self.assertEqual(slow["slow"], 1)
            self.assertEqual(len(calls), 2)
        finally:
            runtime.set_fill(previous)


if __name__ == "__main__":
    unittest.main()
