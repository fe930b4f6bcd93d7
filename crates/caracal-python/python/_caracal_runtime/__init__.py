"""caracal's Python-side runtime: what the Rust side (src/interp.rs, src/engine.rs) calls.

The Rust side hands whole batches to `Engine.eval_policies` / `Engine.eval_rules`, so one
GIL acquisition covers many resources or events, and reads the results while it still
holds the GIL. The binary carries these files (src/interp.rs `MODULES`) and serves them
to `import` from memory (`_caracal_embedded`); tests/python/ imports them from disk.

- watchdog: the time limit of detection calls (the Rust watchdog thread asks `overdue`),
  and the progress a supervising process reads (`set_progress`).
- lazy: `ImmutableDict`, `LazyDict`, `LazyEventDict` and `ImmutableList`, the objects
  the Rust decoder builds.
- event: `PantherEvent` (what a rule sees) and data models.
- backends: the key-value store and posture lookup behind the helper modules
  (`panther_detection_helpers.caching`, `caracal_posture`, `panther_core`: real modules
  beside this package).
- imports: pack globals importable by GlobalID, and `panther_oss_helpers`.
- engine: compiled detections and the batch loops; alerts: the fields of an alert.
- output: what detections print goes to stderr, capped per call.
- testing: a detection's embedded tests; baseline: the benchmarks' plain-CPython loop.
"""

from . import baseline, imports
from .alerts import ALERT_FIELDS, ERROR_FIELDS
from .backends import set_kv, set_posture
from .engine import Engine
from .imports import add_sys_path, import_globals, set_globals
from .lazy import RAW, ImmutableDict, ImmutableList, LazyDict, LazyEventDict, loads, set_fill, set_fold
from .testing import run_tests
from .watchdog import DetectionTimeout, arm, disarm, overdue, set_progress, set_time_limit

baseline_prepare = baseline.prepare
baseline_run = baseline.run

__all__ = [
    "ALERT_FIELDS", "ERROR_FIELDS", "RAW", "DetectionTimeout", "Engine", "ImmutableDict",
    "ImmutableList", "LazyDict", "LazyEventDict", "add_sys_path", "arm", "import_globals", "baseline_prepare", "baseline_run", "disarm",
    "loads", "overdue", "run_tests", "set_fill", "set_globals", "set_kv", "set_posture",
    "set_fold", "set_progress", "set_time_limit",
]

imports.install()

# The helper modules detections import, loaded now so that they take precedence over
# same-named modules of a virtualenv (as sys.modules entries).
import caracal_posture  # noqa: E402,F401
import panther_core  # noqa: E402,F401
import panther_detection_helpers.caching  # noqa: E402,F401
