"""Shared by the runtime's Python tests: puts `python/` (the files the binary embeds)
first on sys.path, so that `_caracal_runtime` and the helper modules import from disk.

Run: `python -m unittest discover -s crates/caracal-python/tests/python` (scripts/test).
"""

import pathlib
import sys

PYTHON = pathlib.Path(__file__).resolve().parents[2] / "python"
if str(PYTHON) not in sys.path:
    sys.path.insert(0, str(PYTHON))

import _caracal_runtime  # noqa: E402

runtime = _caracal_runtime


def engine_with(kind, source, det_id="Test.Detection", log_types=("Test.Log",), resource_types=(), suppressions=()):
    """An engine holding one detection compiled from `source`."""
    engine = runtime.Engine()
    engine.add_detection(kind, det_id, "INFO", source, f"<test>/{det_id}.py", list(resource_types), list(log_types), list(suppressions))
    return engine
