"""The helper modules detections import: panther_detection_helpers.caching on the
in-process store, panther_core; and the watchdog's bookkeeping (no clock involved)."""

import threading
import time
import unittest

from support import runtime

import panther_core
from _caracal_runtime import backends, watchdog
from panther_detection_helpers import caching


class CachingTest(unittest.TestCase):
    def setUp(self):
        self.previous = backends.kv[0]
        runtime.set_kv(backends.MemoryKv())

    def tearDown(self):
        runtime.set_kv(self.previous)

    def test_counters(self):
        self.assertEqual(caching.get_counter("c"), 0)
        self.assertEqual(caching.increment_counter("c"), 1)
        self.assertEqual(caching.increment_counter("c", 5), 6)
        caching.reset_counter("c")
        self.assertEqual(caching.get_counter("c"), 0)

    def test_expired_values_are_gone(self):
        caching.increment_counter("old", 1, epoch_seconds=time.time() - 10)
        self.assertEqual(caching.get_counter("old"), 0)
        caching.put_string_set("s", ["a"], epoch_seconds=time.time() + 3600)
        caching.set_key_expiration("s", time.time() - 1)
        self.assertEqual(caching.get_string_set("s"), set())

    def test_string_sets_and_dictionaries(self):
        self.assertEqual(caching.add_to_string_set("s", "a"), {"a"})
        self.assertEqual(caching.add_to_string_set("s", ["b", "c"]), {"a", "b", "c"})
        self.assertEqual(caching.remove_from_string_set("s", "b"), {"a", "c"})
        self.assertTrue(caching.check_account_age("s"))
        caching.reset_string_set("s")
        self.assertFalse(caching.check_account_age("s"))
        self.assertFalse(caching.check_account_age(""))
        caching.put_dictionary("d", {"when": 1})
        self.assertEqual(caching.get_dictionary("d"), {"when": 1})
        self.assertEqual(caching.get_dictionary("none"), {})

    def test_evaluate_threshold_resets_once_reached(self):
        self.assertEqual([caching.evaluate_threshold("t", threshold=3) for _ in range(4)], [False, False, True, False])

    def test_a_replaced_store_is_what_the_module_uses(self):
        store = backends.MemoryKv()
        runtime.set_kv(store)
        caching.increment_counter("here")
        self.assertIn("here", store.items)


class PantherCoreTest(unittest.TestCase):
    def test_names_are_the_runtimes_classes(self):
        self.assertIs(panther_core.PantherEvent, runtime.engine.PantherEvent)
        self.assertIs(panther_core.ImmutableDict, runtime.ImmutableDict)
        self.assertTrue(issubclass(panther_core.PantherError, Exception))


class WatchdogTest(unittest.TestCase):
    def test_a_call_that_keeps_its_mark_is_overdue_and_an_idle_thread_is_not(self):
        slot = watchdog.slot()
        me = threading.get_ident()
        outer = watchdog.arm()
        try:
            self.assertEqual(watchdog.overdue(), [])  # first sight: remembered
            watchdog._seen[me][1] -= slot[1] + 1  # as if first seen past the limit
            self.assertEqual(watchdog.overdue(), [(me, 1)])
            # Re-armed 100 ms later, not at once.
            self.assertEqual(watchdog.overdue(), [])
        finally:
            watchdog.disarm(outer)
        self.assertEqual(watchdog.overdue(), [])
        self.assertNotIn(me, watchdog._seen)

    def test_progress_of_an_iterator_mark_resets_the_clock(self):
        me = threading.get_ident()
        slot = watchdog.slot()
        it = iter([1, 2, 3])
        slot[0] = it
        try:
            watchdog.overdue()
            watchdog._seen[me][1] -= slot[1] + 1
            next(it)  # the next detection of the item started
            self.assertEqual(watchdog.overdue(), [])
        finally:
            slot[0] = 0
            watchdog.overdue()

    def test_describe_names_the_time_limit(self):
        runtime.set_time_limit(2.5)
        try:
            self.assertEqual(
                watchdog.describe(runtime.DetectionTimeout()), "DetectionTimeout: ran longer than the 2.5 s time limit"
            )
        finally:
            runtime.set_time_limit(5)
        self.assertEqual(watchdog.describe(KeyError("k")), "KeyError: 'k'")

    def test_guarded_restores_the_outer_mark(self):
        slot = watchdog.slot()
        marks = []
        self.assertEqual(watchdog.guarded(lambda x: marks.append(slot[0]) or x, 7), 7)
        self.assertNotEqual(marks[0], 0)
        self.assertEqual(slot[0], 0)


if __name__ == "__main__":
    unittest.main()
