"""The import hook for packs: every `global` spec importable by its GlobalID, and the
public posture helper module (`panther_oss_helpers`) answered from caracal's store."""

import importlib
import importlib.abc
import importlib.util
import sys
import types

from .watchdog import describe, guarded

# Public helper modules whose lookups caracal answers from its own store: the older
# `panther_oss_helpers` and today's `panther_aws_helpers` (#15.10), whose
# `resource_lookup` reads the `panther-resources` DynamoDB table through boto3.
POSTURE_HELPERS = frozenset(("panther_aws_helpers", "panther_oss_helpers"))
# What such a module gets from `caracal_posture`, replacing its own definitions.
_POSTURE_NAMES = ("resource_lookup", "s3_lookup_by_name", "get_s3_arn_by_name", "BadLookup", "PantherBadInput")


class _NoBoto3:
    """Stands in for boto3 while a public posture helper module loads without it: those
    modules make a boto3 table at import, which caracal's lookups replace."""

    def __call__(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self


def _load_posture_helper(module, code):
    """Runs a posture helper module's code (boto3 stubbed when missing), then points its
    lookup names at `caracal_posture`."""
    stub = None
    if "boto3" not in sys.modules and importlib.util.find_spec("boto3") is None:
        stub = types.ModuleType("boto3")
        stub.__getattr__ = lambda name: _NoBoto3()
        sys.modules["boto3"] = stub
    try:
        guarded(lambda ns: exec(code, ns), module.__dict__)
    finally:
        if stub is not None and sys.modules.get("boto3") is stub:
            del sys.modules["boto3"]
    import caracal_posture

    for name in _POSTURE_NAMES:
        setattr(module, name, getattr(caracal_posture, name))


class GlobalFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes every `global` spec importable by its GlobalID, in any load order."""

    def __init__(self):
        self.sources = {}  # GlobalID -> (source, filename)

    def find_spec(self, name, path=None, target=None):
        if name in self.sources:
            return importlib.util.spec_from_loader(name, self, origin=self.sources[name][1])
        if name in POSTURE_HELPERS:
            # A pack without its own copy still gets the public helper names.
            return importlib.util.spec_from_loader(name, self, origin="<caracal>/" + name + ".py")
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        name = module.__name__
        if name not in self.sources:
            module.__file__ = "<caracal>/" + name + ".py"
            _load_posture_helper(module, compile("", module.__file__, "exec"))
            return
        source, filename = self.sources[name]
        module.__file__ = filename
        code = compile(source, filename, "exec")
        if name in POSTURE_HELPERS:
            _load_posture_helper(module, code)
        else:
            guarded(lambda ns: exec(code, ns), module.__dict__)


finder = GlobalFinder()


def set_globals(globals_list):
    """Replaces the importable globals with [(GlobalID, source, filename)]."""
    for name in list(finder.sources):
        sys.modules.pop(name, None)
    finder.sources = {name: (source, filename) for name, source, filename in globals_list}
    for name in finder.sources:
        sys.modules.pop(name, None)


def import_globals():
    """Imports every global not imported yet, as panther-analysis-tool loads them all;
    returns [(GlobalID, "Type: message")] of those that fail (a missing module)."""
    failed = []
    for name in finder.sources:
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - every failure makes the spec invalid
            failed.append((name, describe(exc)))
    return failed


def add_sys_path(path):
    """Puts a folder (a virtualenv's site-packages) in front of `sys.path`, once."""
    if path not in sys.path:
        sys.path.insert(0, path)


def install():
    """Puts the finder in front of every other (idempotent)."""
    if finder not in sys.meta_path:
        sys.meta_path.insert(0, finder)
