"""The import hooks: pack globals by GlobalID, the public posture helper module, and the
finder that serves the embedded modules (python/_caracal_runtime/imports.py,
python/_caracal_embedded.py)."""

import importlib
import importlib.util
import subprocess
import sys
import traceback
import unittest
from unittest import mock

from support import PYTHON, engine_with, runtime

import _caracal_embedded


class GlobalsTest(unittest.TestCase):
    def tearDown(self):
        runtime.set_globals([])

    def test_globals_import_by_id_in_any_order(self):
        runtime.set_globals(
            [
                ("test_global_b", "from test_global_a import VALUE\nDOUBLE = VALUE * 2\n", "<test>/b.py"),
                ("test_global_a", "VALUE = 21\n", "<test>/a.py"),
            ]
        )
        engine = engine_with("rule", "from test_global_b import DOUBLE\ndef rule(e):\n    return DOUBLE == 42\n")
        self.assertTrue(engine.rules[0].main({}))
        self.assertEqual(sys.modules["test_global_a"].__file__, "<test>/a.py")

    def test_replacing_globals_drops_the_old_modules(self):
        runtime.set_globals([("test_global_c", "X = 1\n", "<test>/c.py")])
        importlib.import_module("test_global_c")
        runtime.set_globals([("test_global_c", "X = 2\n", "<test>/c.py")])
        self.assertNotIn("test_global_c", sys.modules)
        self.assertEqual(importlib.import_module("test_global_c").X, 2)
        runtime.set_globals([])
        with self.assertRaises(ModuleNotFoundError):
            importlib.import_module("test_global_c")

    def test_a_missing_module_fails_the_detection_by_name(self):
        """#11.3: the error names the module, for the invalid spec it becomes."""
        with self.assertRaises(ModuleNotFoundError) as raised:
            engine_with("rule", "import caracal_no_such_module\ndef rule(e):\n    return True\n")
        self.assertEqual(raised.exception.name, "caracal_no_such_module")


    def test_import_globals_lists_those_that_fail(self):
        """#11.3: `caracal test` imports every global and names those that fail."""
        runtime.set_globals(
            [
                ("test_global_ok", "X = 1\n", "<test>/ok.py"),
                ("test_global_bad", "import caracal_no_such_module\n", "<test>/bad.py"),
            ]
        )
        self.assertEqual(
            runtime.import_globals(), [("test_global_bad", "ModuleNotFoundError: No module named 'caracal_no_such_module'")]
        )
        self.assertIn("test_global_ok", sys.modules)


class PostureHelperTest(unittest.TestCase):
    def tearDown(self):
        runtime.set_globals([])
        runtime.set_posture(None)

    def test_a_pack_without_its_own_copy_gets_the_lookup_names(self):
        runtime.set_globals([])
        sys.modules.pop("panther_oss_helpers", None)
        helpers = importlib.import_module("panther_oss_helpers")
        import caracal_posture

        self.assertIs(helpers.resource_lookup, caracal_posture.resource_lookup)
        self.assertIs(helpers.BadLookup, caracal_posture.BadLookup)

    def test_panther_aws_helpers_lookups_read_the_store(self):
        """#15.10: today's public module, with a lazily built boto3 table, routes its
        lookups (and the helpers calling them) to caracal's store."""
        source = (
            "import boto3\n"
            "_TABLE = None\n"
            "class BadLookup(Exception):\n    pass\n"
            "def resource_table():\n"
            "    global _TABLE\n"
            "    _TABLE = _TABLE or boto3.resource('dynamodb').Table('panther-resources')\n"
            "    return _TABLE\n"
            "def resource_lookup(resource_id):\n"
            "    return resource_table().get_item(Key={'id': resource_id})['Item']['attributes']\n"
            "def s3_lookup_by_name(name):\n    return resource_lookup('arn:aws:s3:::' + name)\n"
            "def bucket_is_public(name):\n    return resource_lookup('arn:aws:s3:::' + name).get('Public')\n"
        )
        runtime.set_globals([("panther_aws_helpers", source, "<test>/panther_aws_helpers.py")])
        helpers = importlib.import_module("panther_aws_helpers")

        class Store:
            def resource(self, rid):
                return '{"Name": "b", "Public": true}' if rid == "arn:aws:s3:::b" else None

            def compliance(self, rid):
                return []

        runtime.set_posture(Store())
        try:
            self.assertEqual(helpers.s3_lookup_by_name("b")["Name"], "b")
            self.assertIs(helpers.bucket_is_public("b"), True)
            with self.assertRaises(helpers.BadLookup):
                helpers.resource_lookup("arn:aws:s3:::other")
        finally:
            runtime.set_posture(None)
            runtime.set_globals([])
            sys.modules.pop("panther_aws_helpers", None)

    def test_the_packs_copy_keeps_its_other_names_and_loses_boto3_lookups(self):
        source = (
            "import boto3\n"
            "TABLE = boto3.resource('dynamodb').Table('panther-resources')\n"
            "def resource_lookup(resource_id):\n    return TABLE.get_item(Key=resource_id)\n"
            "def pack_helper():\n    return 'kept'\n"
        )
        runtime.set_globals([("panther_oss_helpers", source, "<test>/panther_oss_helpers.py")])
        # As where boto3 is not installed: the module loads against a stand-in.
        real_find_spec = importlib.util.find_spec
        boto3 = sys.modules.pop("boto3", None)
        try:
            with mock.patch.object(importlib.util, "find_spec", lambda name, *a: None if name == "boto3" else real_find_spec(name, *a)):
                helpers = importlib.import_module("panther_oss_helpers")
            self.assertNotIn("boto3", sys.modules)
        finally:
            if boto3 is not None:
                sys.modules["boto3"] = boto3
        self.assertEqual(helpers.pack_helper(), "kept")

        class Store:
            def resource(self, rid):
                return '{"ResourceId": "%s"}' % rid if rid == "known" else None

            def compliance(self, rid):
                return [("Policy.A", "PASS")]

            def resource_at(self, rid, when):
                return '{"At": "%s"}' % when if rid == "known" else None

        store = Store()
        runtime.set_posture(store)
        self.assertEqual(helpers.resource_lookup("known"), {"ResourceId": "known"})
        with self.assertRaises(helpers.BadLookup):
            helpers.resource_lookup("unknown")
        import caracal_posture

        self.assertEqual(caracal_posture.compliance_status("known"), {"Policy.A": "PASS"})
        self.assertEqual(caracal_posture.compliance_status("known", "Policy.A"), "PASS")
        import datetime

        naive = datetime.datetime(2024, 7, 31, 12, 0, 5)
        self.assertEqual(caracal_posture.resource_at("known", naive), {"At": "2024-07-31T12:00:05+00:00"})
        self.assertEqual(caracal_posture.resource_at("known", 0)["At"], "1970-01-01T00:00:00+00:00")
        self.assertEqual(caracal_posture.resource_at("known", "2024-07-31 12:00:05.000")["At"], "2024-07-31 12:00:05.000")
        with self.assertRaises(caracal_posture.BadLookup):
            caracal_posture.resource_at("unknown", naive)
        with self.assertRaises(caracal_posture.PantherBadInput):
            caracal_posture.resource_at("known", None)
        runtime.set_posture(None)
        with self.assertRaises(caracal_posture.BadLookup):
            caracal_posture.resource_lookup("known")


class EmbeddedFinderTest(unittest.TestCase):
    """The finder the binary imports its modules with (#10.3)."""

    def setUp(self):
        files = {
            "caracal_embtest/__init__.py": "from .inner import VALUE\n",
            "caracal_embtest/inner.py": "VALUE = 'inner'\n\ndef fail():\n    raise RuntimeError('from embedded code')\n",
            "caracal_embtest_single.py": "NAME = __name__\n",
        }
        self.finder = _caracal_embedded.install(files)

    def tearDown(self):
        sys.meta_path.remove(self.finder)
        for name in ("caracal_embtest", "caracal_embtest.inner", "caracal_embtest_single"):
            sys.modules.pop(name, None)

    def test_packages_modules_and_relative_imports(self):
        pkg = importlib.import_module("caracal_embtest")
        self.assertEqual(pkg.VALUE, "inner")
        self.assertEqual(pkg.__file__, "<caracal>/caracal_embtest/__init__.py")
        self.assertEqual(pkg.__path__, [])
        single = importlib.import_module("caracal_embtest_single")
        self.assertEqual(single.NAME, "caracal_embtest_single")
        self.assertFalse(hasattr(single, "__path__"))

    def test_tracebacks_show_the_embedded_source(self):
        inner = importlib.import_module("caracal_embtest.inner")
        try:
            inner.fail()
        except RuntimeError:
            text = traceback.format_exc()
        self.assertIn("<caracal>/caracal_embtest/inner.py", text)
        self.assertIn("raise RuntimeError('from embedded code')", text)

    def test_the_real_tree_imports_through_it(self):
        """What the binary does (src/interp.rs), in a fresh interpreter."""
        script = (
            "import pathlib, sys\n"
            f"root = pathlib.Path({str(PYTHON)!r})\n"
            "files = {str(p.relative_to(root)): p.read_text() for p in root.rglob('*.py') if p.name != '_caracal_embedded.py'}\n"
            "sys.path.insert(0, str(root))\n"
            "import _caracal_embedded\n"
            "sys.path.pop(0)\n"
            "_caracal_embedded.install(files)\n"
            "import _caracal_runtime, panther_core, panther_detection_helpers.caching\n"
            "print(_caracal_runtime.engine.__file__, panther_core.PantherEvent.__module__)\n"
        )
        done = subprocess.run([sys.executable, "-B", "-c", script], capture_output=True, text=True, check=False)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.split(), ["<caracal>/_caracal_runtime/engine.py", "_caracal_runtime.event"])


if __name__ == "__main__":
    unittest.main()
