"""caracal's Python-side runtime, installed as the module `_caracal_runtime`.

The Rust side (src/interp.rs) hands whole batches to the functions here, so one GIL
acquisition and one `json.loads` cover many resources or events. Results go back as
JSON text. Everything a detection may import that is not in its pack (`panther_core`,
`panther_detection_helpers.caching`) is built from this module.
"""

import fnmatch
import importlib.abc
import importlib.util
import json
import operator
import re
import sys
import threading
import time
import types
from collections.abc import Mapping
from contextlib import redirect_stdout
from datetime import datetime, timezone
from unittest import mock

_monotonic = time.monotonic
_get_ident = threading.get_ident

# ---------------------------------------------------------------------------
# Time limit. The Rust watchdog thread calls `_overdue()` with the GIL held and raises
# `DetectionTimeout` asynchronously in every thread it returns.

_slots = {}  # thread id -> [progress mark (0: idle), time limit in seconds]
_seen = {}  # thread id -> [progress, first seen (monotonic), interrupts] (watchdog only)
_limit = [5.0]
_length_hint = operator.length_hint


class DetectionTimeout(BaseException):
    """Raised inside a detection that ran past its time limit."""


def set_time_limit(seconds):
    """Sets the time limit of the calling thread's detection calls (engines differ)."""
    _slot()[1] = float(seconds)


def _slot():
    """This thread's call slot. Its mark changes with every detection call, at no clock
    read: either a new sequence number per call, or, in the batch loops, the iterator
    over one item's detections (stored once per item; each call advances it). The
    watchdog times how long one mark stays at the same progress."""
    tid = _get_ident()
    slot = _slots.get(tid)
    if slot is None:
        slot = _slots[tid] = [0, _limit[0]]
    return slot


def _progress(mark):
    """What changes from one call to the next: the sequence number, or the iterator and
    how many detections it has left (the watchdog holds the iterator, so its identity
    is never reused while compared)."""
    if type(mark) is int:
        return mark
    return (mark, _length_hint(mark))


def _overdue():
    """[(thread id, times interrupted)] for every thread whose current call is too long."""
    now = _monotonic()
    late = []
    for tid, slot in list(_slots.items()):
        mark, limit = slot
        seen = _seen.get(tid)
        if mark == 0:  # idle (an iterator never equals 0)
            _seen.pop(tid, None)
            continue
        progress = _progress(mark)
        if seen is None or seen[0] != progress:
            _seen[tid] = [progress, now, 0]
        elif now - seen[1] > limit:
            seen[2] += 1
            # Fire again in 100 ms if the detection swallows the exception and goes on.
            seen[1] = now - limit + 0.1
            late.append((tid, seen[2]))
    return late


_sequence = [0]


def _guarded(fn, arg):
    slot = _slot()
    outer = slot[0]
    _sequence[0] += 1
    slot[0] = _sequence[0]
    try:
        return fn(arg)
    finally:
        slot[0] = outer


def _arm():
    """Marks this thread as running detection code on behalf of Rust (reading alert
    contexts calls their `__str__` / `items()`), so the watchdog times it like a
    detection call. Returns what `_disarm` restores."""
    slot = _slot()
    outer = slot[0]
    _sequence[0] += 1
    slot[0] = _sequence[0]
    return outer


def _disarm(outer):
    _slot()[0] = outer


def _describe(exc):
    if isinstance(exc, DetectionTimeout):
        return f"DetectionTimeout: ran longer than the {_slot()[1]:g} s time limit"
    return f"{type(exc).__name__}: {exc}"


# ---------------------------------------------------------------------------
# Immutable event objects.


def _read_only(self, *args, **kwargs):
    raise TypeError(f"'{type(self).__name__}' is immutable; use to_dict() for a copy")


class ImmutableDict(dict):
    """A dict that refuses writes. Nested objects of events and resources are these."""

    __slots__ = ()
    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _read_only
    __ior__ = _read_only

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def to_dict(self):
        return _thaw(self)

    def __reduce__(self):
        # Pickle rebuilds through the constructor: item by item would hit __setitem__.
        return (ImmutableDict, (dict(self),))


def _thaw(value):
    if isinstance(value, dict):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thaw(v) for v in value]
    return value


_decoder = json.JSONDecoder(object_hook=ImmutableDict)
_loads = _decoder.decode

_RAW = object()  # the key under which a _LazyDict keeps its JSON text


class _LazyDict(ImmutableDict):
    """An ImmutableDict still in JSON text form (src/decode.rs makes these for the large
    nested objects of events and resources, which most detections never open).

    It holds {_RAW: text}: never empty, so C code that tests the size first (json.dumps)
    goes on to call items(). Every reading method decodes the text into the dict (`_fill`,
    the Rust decoder; `_loads` for what it leaves to Python), then
    turns the object into a plain ImmutableDict, so later reads run at C speed. Interrupted
    half-way (time limit), the next read finishes the job: decoding is idempotent."""

    __slots__ = ()

    def _load(self):
        text = dict.get(self, _RAW)
        if text is not None and not _fill(self, text):
            dict.update(self, _loads(text))
            dict.__delitem__(self, _RAW)
        self.__class__ = ImmutableDict
        return self

    def __eq__(self, other):
        if type(other) is _LazyDict:
            other._load()
        return dict.__eq__(self._load(), other)

    def __ne__(self, other):
        if type(other) is _LazyDict:
            other._load()
        return dict.__ne__(self._load(), other)

    __hash__ = None

    def __reduce_ex__(self, protocol):
        return self._load().__reduce_ex__(protocol)


def _opening(name):
    """dict's method `name`, called once the lazy object is decoded."""
    method = getattr(dict, name)

    def opened(self, *args, **kwargs):
        return method(self._load(), *args, **kwargs)

    opened.__name__ = opened.__qualname__ = name
    return opened


# Every reading method opens the object first (equality and pickling are above).
for _name in (
    "get", "__getitem__", "__contains__", "__iter__", "__reversed__", "__len__", "keys",
    "values", "items", "copy", "__or__", "__ror__", "__repr__", "__sizeof__",
):
    setattr(_LazyDict, _name, _opening(_name))
del _name

_LazyDict.__name__ = _LazyDict.__qualname__ = "ImmutableDict"


def _fill(lazy, text):
    """Decodes a lazy object's text into it; False when it cannot (then `_loads` does).
    Replaced by the Rust decoder (src/decode.rs `fill_lazy`) when the runtime is installed."""
    return False


def _walk(value, keys):
    """Yields every value under the key path, descending into lists at each step."""
    if not keys:
        if isinstance(value, list):
            for item in value:
                yield from _walk(item, keys)
        elif value is not None:
            yield value
        return
    if isinstance(value, dict):
        nxt = value.get(keys[0])
        if nxt is not None:
            yield from _walk(nxt, keys[1:])
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, keys)


_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+|\*)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def _compile_path(path):
    """Compiles the JSONPath subset data models use: `$.a.b`, `[0]`, `[*]`, `['k']`."""
    if not path.startswith("$"):
        return [path]
    steps, pos = [], 1
    while pos < len(path):
        m = _PATH_TOKEN.match(path, pos)
        if m is None:
            raise ValueError(f"unsupported JSONPath {path!r} at offset {pos}")
        name, index, quoted, dquoted = m.groups()
        if name is not None:
            steps.append(name)
        elif index == "*":
            steps.append(_STAR)
        elif index is not None:
            steps.append(int(index))
        else:
            steps.append(quoted if quoted is not None else dquoted)
        pos = m.end()
    return steps


_STAR = object()


def _follow(value, steps):
    for i, step in enumerate(steps):
        if step is _STAR:
            if not isinstance(value, list):
                return None
            found = [_follow(v, steps[i + 1 :]) for v in value]
            found = [v for v in found if v is not None]
            return found or None
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return None
            value = value[step]
        elif isinstance(value, dict):
            value = value.get(step)
        else:
            return None
        if value is None:
            return None
    return value


class DataModel:
    """Standard field names of one log type: a path or a method per name."""

    def __init__(self, model_id, mappings, module):
        self.id = model_id
        self.paths = {}
        self.methods = {}
        for m in mappings:
            name = m["Name"]
            if m.get("Path") is not None:
                self.paths[name] = (m["Path"], _compile_path(m["Path"]))
            else:
                fn = getattr(module, m["Method"], None) if module is not None else None
                if fn is None:
                    raise ValueError(f"data model {model_id}: method {m['Method']!r} not found")
                self.methods[name] = fn


class PantherError(Exception):
    """A helper of the event object was used where it cannot work (no data model)."""


class PantherEvent(ImmutableDict):
    """The event a rule sees: an immutable mapping with Panther's helper methods.

    The data model is a class attribute: every data model gets its own subclass (also
    named PantherEvent), so a decoded ImmutableDict becomes an event by a `__class__`
    swap instead of a copy."""

    __slots__ = ()
    _data_model = None

    def __new__(cls, data=(), data_model=None):
        return dict.__new__(_event_class(data_model, cls))

    def __init__(self, data=(), data_model=None):
        dict.__init__(self, data)

    def deep_get(self, *keys, default=None):
        value = self
        for key in keys:
            if not isinstance(value, Mapping):
                return default
            value = value.get(key)
            if value is None:
                return default
        return value

    def deep_walk(self, *keys, default=None, return_val="all"):
        found = []
        for v in _walk(self, list(keys)):
            if v not in found:
                found.append(v)
        if not found:
            return default
        if return_val == "first":
            return found[0]
        if return_val == "last":
            return found[-1]
        return found[0] if len(found) == 1 else found

    def udm(self, *keys, default=None):
        """A standard field, as panther_core reads it: with one key and a data model, the
        mapped path's value or method's result (a mapped name that finds nothing gives
        `default`); otherwise the key path under `p_udm`, then on the event itself."""
        model = self._data_model
        if len(keys) == 1 and model is not None:
            name = keys[0]
            path = model.paths.get(name)
            if path is not None:
                value = _follow(self, path[1])
                return default if value is None else value
            fn = model.methods.get(name)
            if fn is not None:
                return fn(self)
        if keys:
            value = self.deep_get("p_udm", *keys)
            if not value:
                value = self.deep_get(*keys)
            if value:
                return value
        return default

    def udm_path(self, name):
        """The path (as the data model writes it) or method name mapped to `name`; None
        when unmapped. Raises PantherError when the log type has no data model."""
        model = self._data_model
        if model is None:
            raise PantherError(f"no data model for log type {self.get('p_log_type')!r}")
        path = model.paths.get(name)
        if path is not None:
            return path[0]
        fn = model.methods.get(name)
        return getattr(fn, "__name__", repr(fn)) if fn is not None else None

    def __reduce__(self):
        # Rebuilt as a plain PantherEvent (data models are per engine, not picklable).
        return (PantherEvent, (dict(self),))

    def event_time_epoch(self):
        text = self.get("p_event_time")
        if not text:
            return 0
        text = str(text).replace(" ", "T").replace("Z", "+00:00")
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return int(parsed.timestamp())


_event_classes = {}


def _event_class(data_model, base=None):
    """The subclass of `base` (PantherEvent) for one data model (`base` itself for none)."""
    base = base or PantherEvent
    if data_model is None or base._data_model is data_model:
        return base
    key = (base, id(data_model))
    cls = _event_classes.get(key)
    if cls is None or cls._data_model is not data_model:
        cls = type(base)(base.__name__, (base,), {"__slots__": (), "_data_model": data_model, "__module__": base.__module__})
        _event_classes[key] = cls
    return cls


# ---------------------------------------------------------------------------
# Modules the public packs import that are not in the pack.


class _MemoryKv:
    """The key-value store tests use: a dict with expiry, fresh for every test."""

    def __init__(self):
        self.items = {}

    def _live(self, key):
        item = self.items.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.time():
            del self.items[key]
            return None
        return item

    def get(self, key):
        item = self._live(key)
        return None if item is None else item[0]

    def put(self, key, value, expires_at):
        self.items[key] = (value, expires_at)

    def increment(self, key, by, expires_at):
        item = self._live(key)
        total = (int(item[0]) if item else 0) + by
        self.items[key] = (str(total), expires_at if expires_at is not None else (item[1] if item else None))
        return total

    def set_expiry(self, key, expires_at):
        item = self._live(key)
        if item is not None:
            self.items[key] = (item[0], expires_at)

    def delete(self, key):
        self.items.pop(key, None)


_kv = [_MemoryKv()]


def set_kv(store):
    """Backs `panther_detection_helpers.caching` with `store` (get/put/increment/...)."""
    _kv[0] = store


_CACHING_SOURCE = '''
"""State across events, backed by caracal's key-value store (values expire)."""
import json as _json
import time as _time
from _caracal_runtime import _kv

def _store():
    return _kv[0]

def _exp(epoch_seconds):
    return None if epoch_seconds is None else int(epoch_seconds)

def get_counter(key, force_ttl_check=False):
    text = _store().get(key)
    return int(text) if text is not None else 0

def increment_counter(key, val=1, epoch_seconds=None):
    return _store().increment(key, int(val), _exp(epoch_seconds))

def reset_counter(key):
    _store().delete(key)

def set_key_expiration(key, epoch_seconds):
    _store().set_expiry(key, int(epoch_seconds))

def get_string_set(key, force_ttl_check=False):
    text = _store().get(key)
    return set(_json.loads(text)) if text is not None else set()

def put_string_set(key, val, epoch_seconds=None):
    _store().put(key, _json.dumps(sorted(str(v) for v in val)), _exp(epoch_seconds))

def add_to_string_set(key, val, epoch_seconds=None):
    items = get_string_set(key)
    items.update([val] if isinstance(val, str) else val)
    put_string_set(key, items, epoch_seconds)
    return items

def remove_from_string_set(key, val):
    items = get_string_set(key)
    items.difference_update([val] if isinstance(val, str) else val)
    put_string_set(key, items)
    return items

def reset_string_set(key):
    _store().delete(key)

def get_dictionary(key, force_ttl_check=False):
    text = _store().get(key)
    return _json.loads(text) if text is not None else {}

def put_dictionary(key, val, epoch_seconds=None):
    _store().put(key, _json.dumps(val, default=str), _exp(epoch_seconds))

def evaluate_threshold(key, threshold=10, expiry_seconds=3600):
    count = increment_counter(key, 1, int(_time.time()) + int(expiry_seconds))
    if count >= threshold:
        reset_counter(key)
        return True
    return False

def check_account_age(key):
    """True when a creation rule stored `key` (a new user or account id) with
    put_string_set / add_to_string_set and it has not expired: the account is new."""
    if isinstance(key, str) and key != "":
        return bool(get_string_set(key))
    return False
'''


# ---------------------------------------------------------------------------
# Posture lookups: the resource store and compliance state, for rules and policies.

_posture = [None]


def set_posture(lookup):
    """Backs `caracal_posture` with `lookup` (resource(id) -> JSON text or None,
    compliance(id) -> [(policy id, status)]); None detaches it."""
    _posture[0] = lookup


_POSTURE_SOURCE = '''
"""Posture lookups from detections: the latest snapshot of a resource and its compliance.

`resource_lookup` returns the snapshot a policy would receive for that resource. Packs that
import the public helper names (`panther_oss_helpers.resource_lookup`,
`s3_lookup_by_name`) get these implementations.
"""
from _caracal_runtime import _posture, _loads


class BadLookup(Exception):
    """The resource is not in the store (or no store is attached)."""


class PantherBadInput(Exception):
    """A lookup was called with unusable input."""


def _backend():
    if _posture[0] is None:
        raise BadLookup("no resource store is attached to this engine")
    return _posture[0]


def resource_lookup(resource_id):
    """The latest snapshot of `resource_id` (an immutable mapping); BadLookup if unknown."""
    if not resource_id:
        raise PantherBadInput("resourceId cannot be blank")
    text = _backend().resource(str(resource_id))
    if text is None:
        raise BadLookup(str(resource_id) + " not found")
    return _loads(text)


def get_s3_arn_by_name(name):
    """The ARN of the S3 bucket `name`."""
    if not name:
        raise PantherBadInput("s3 name cannot be blank")
    return "arn:aws:s3:::" + name


def s3_lookup_by_name(name):
    """The latest snapshot of the S3 bucket `name`."""
    return resource_lookup(get_s3_arn_by_name(name))


def compliance_status(resource_id, policy_id=None):
    """The stored verdicts on `resource_id`: {policy id: "PASS" | "FAIL" | "ERROR"}, or
    the one verdict of `policy_id` (None when that policy never evaluated it)."""
    verdicts = dict(_backend().compliance(str(resource_id)))
    return verdicts.get(policy_id) if policy_id is not None else verdicts
'''

# Public helper modules whose lookups caracal answers from its own store.
_POSTURE_HELPERS = frozenset(("panther_oss_helpers",))


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
    stub = None
    if "boto3" not in sys.modules and importlib.util.find_spec("boto3") is None:
        stub = types.ModuleType("boto3")
        stub.__getattr__ = lambda name: _NoBoto3()
        sys.modules["boto3"] = stub
    try:
        _guarded(lambda ns: exec(code, ns), module.__dict__)
    finally:
        if stub is not None and sys.modules.get("boto3") is stub:
            del sys.modules["boto3"]
    posture = sys.modules["caracal_posture"]
    for name in ("resource_lookup", "s3_lookup_by_name", "get_s3_arn_by_name", "BadLookup", "PantherBadInput"):
        setattr(module, name, getattr(posture, name))


def _install_support_modules():
    posture = types.ModuleType("caracal_posture")
    posture.__file__ = "<caracal>/caracal_posture.py"
    exec(compile(_POSTURE_SOURCE, posture.__file__, "exec"), posture.__dict__)
    sys.modules["caracal_posture"] = posture
    core = types.ModuleType("panther_core")
    core.__doc__ = "caracal's stand-in for panther_core: PantherEvent is caracal's event class."
    core.PantherEvent = PantherEvent
    core.ImmutableDict = ImmutableDict
    core.PantherError = PantherError
    sys.modules["panther_core"] = core
    helpers = types.ModuleType("panther_detection_helpers")
    helpers.__path__ = []
    caching = types.ModuleType("panther_detection_helpers.caching")
    caching.__file__ = "<caracal>/panther_detection_helpers/caching.py"
    exec(compile(_CACHING_SOURCE, caching.__file__, "exec"), caching.__dict__)
    helpers.caching = caching
    sys.modules["panther_detection_helpers"] = helpers
    sys.modules["panther_detection_helpers.caching"] = caching


class _GlobalFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes every `global` spec importable by its GlobalID, in any load order."""

    def __init__(self):
        self.sources = {}

    def find_spec(self, name, path=None, target=None):
        if name in self.sources:
            return importlib.util.spec_from_loader(name, self, origin=self.sources[name][1])
        if name in _POSTURE_HELPERS:
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
        if name in _POSTURE_HELPERS:
            _load_posture_helper(module, code)
        else:
            _guarded(lambda ns: exec(code, ns), module.__dict__)


_finder = _GlobalFinder()


def set_globals(globals_list):
    """Replaces the importable globals with [(GlobalID, source, filename)]."""
    for name in list(_finder.sources):
        sys.modules.pop(name, None)
    _finder.sources = {name: (source, filename) for name, source, filename in globals_list}
    for name in _finder.sources:
        sys.modules.pop(name, None)


def add_sys_path(path):
    if path not in sys.path:
        sys.path.insert(0, path)


# ---------------------------------------------------------------------------
# Detections.

_OPTIONAL = ("title", "dedup", "alert_context", "severity", "description", "reference", "runbook", "destinations")
_SEVERITIES = {"INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"}


class Detection:
    """One compiled policy or rule and what evaluating it needs."""

    def __init__(self, index, kind, det_id, severity, source, filename, resource_types, log_types, suppressions):
        self.index = index
        self.kind = kind
        self.id = det_id
        self.severity = severity
        self.module = types.ModuleType("caracal_detection_" + re.sub(r"\W", "_", det_id))
        self.module.__file__ = filename
        code = compile(source, filename, "exec")
        _guarded(lambda ns: exec(code, ns), self.module.__dict__)
        self.main = getattr(self.module, kind, None)
        if not callable(self.main):
            raise AttributeError(f"{filename} defines no {kind}() function")
        self.optional = {name: getattr(self.module, name) for name in _OPTIONAL if callable(getattr(self.module, name, None))}
        self.optional_items = tuple(self.optional.items())
        self.optional_slots = tuple((name, fn, _ALERT_SLOTS[name], _ALERT_VALUES.get(name, str)) for name, fn in self.optional_items)
        self.resource_types = frozenset(resource_types or ())
        self.log_types = tuple(log_types or ())
        pattern = "|".join(fnmatch.translate(g) for g in suppressions or ())
        self.suppress = re.compile(pattern).match if pattern else None


class Engine:
    """Compiled detections of one pack, indexed for batch evaluation."""

    def __init__(self):
        self.policies = []
        self.rules = []
        self.data_models = {}
        self.by_log_type = {}
        self.policies_by_type = {}
        self.all_type_policies = []
        self.groups = {}
        self.group_table = []
        self.routes = {}

    def add_data_model(self, model_id, log_types, mappings, source, filename):
        module = None
        if source is not None:
            module = types.ModuleType("caracal_datamodel_" + re.sub(r"\W", "_", model_id))
            module.__file__ = filename
            code = compile(source, filename, "exec")
            _guarded(lambda ns: exec(code, ns), module.__dict__)
        model = DataModel(model_id, json.loads(mappings), module)
        for lt in log_types:
            self.data_models[lt] = model
        self.routes = {}

    def add_detection(self, kind, det_id, severity, source, filename, resource_types, log_types, suppressions):
        index = len(self.policies) if kind == "policy" else len(self.rules)
        det = Detection(index, kind, det_id, severity, source, filename, resource_types, log_types, suppressions)
        if kind == "policy":
            self.policies.append(det)
            if det.resource_types:
                for rt in det.resource_types:
                    self.policies_by_type[rt] = self.policies_by_type.get(rt, ()) + (det,)
            else:
                self.all_type_policies.append(det)
        else:
            self.rules.append(det)
            for lt in det.log_types:
                self.by_log_type.setdefault(lt, []).append(det)
            self.routes = {}
        return index

    # -- production --------------------------------------------------------

    def _policy_group(self, resource_type):
        """The policies that apply to a resource type, numbered once per engine.

        Returns (group number, (policy(), ...), (suppress or None, ...) or None)."""
        dets = self.policies_by_type.get(resource_type, ()) + tuple(self.all_type_policies)
        suppress = tuple(d.suppress for d in dets) if any(d.suppress is not None for d in dets) else None
        group = (len(self.group_table), tuple(d.main for d in dets), suppress)
        self.group_table.append([d.index for d in dets])
        self.groups[resource_type] = group
        return group

    def eval_policies(self, resources):
        """Runs the applicable policies on every resource; compact on purpose.

        `resources`: the list the Rust side decoded, or its JSON text. Returns (groups,
        rows, results, errors, suppressed): groups [[policy index, ...], ...] lists the
        applicable policies of each resource type; rows has one group number per
        resource; results one value per applicable resource x policy in that order
        (what policy() returned, `_FAILED` when it raised); errors [(result position,
        "Type: message")]; suppressed the result positions whose resource id a
        `Suppressions` glob matches. The Rust side turns results into statuses.
        """
        if type(resources) is not list:
            resources = _loads(resources)
        rows = []
        row = rows.append
        results = []
        push = results.append
        errors = []
        suppressed = []
        groups = self.groups
        slot = _slot()
        try:
            with redirect_stdout(sys.stderr):
                for res in resources:
                    rt = res.get("ResourceType")
                    group = groups.get(rt) or self._policy_group(rt)
                    row(group[0])
                    # The watchdog times each call by this iterator's progress.
                    slot[0] = it = iter(group[1])
                    for main in it:
                        try:
                            push(main(res))
                        except BaseException as exc:  # noqa: BLE001 - every failure is an ERROR status
                            errors.append((len(results), _describe(exc)))
                            push(_FAILED)
                    if group[2] is not None:
                        rid = res.get("ResourceId") or ""
                        first = len(results) - len(group[2])
                        for k, suppress in enumerate(group[2]):
                            if suppress is not None and suppress(rid):
                                suppressed.append(first + k)
        finally:
            slot[0] = 0
        sys.stderr.flush()
        return self.group_table, rows, results, errors, suppressed

    def _route(self, log_type):
        """(event class, (rule(), ...) or None, (Detection, ...)) for one log type, built once."""
        rules = self.by_log_type.get(log_type)
        cls = _event_class(self.data_models.get(log_type))
        route = (cls, tuple(d.main for d in rules), tuple(rules)) if rules else (cls, None, ())
        self.routes[log_type] = route
        return route

    def eval_rules(self, events):
        """Runs the rules of each event's p_log_type; returns the matches and errors.

        `events`: the list the Rust side decoded, or its JSON text. Returns a list with
        one entry per outcome, read by the Rust side (src/outcome.rs): an error is
        [event, rule, "rule: Type: message"]; an alert is the list `_alert_fields` fills.
        """
        if type(events) is not list:
            events = _loads(events)
        out = []
        slot = _slot()
        n = _sequence[0]
        routes = self.routes
        append = out.append
        try:
            with redirect_stdout(sys.stderr):
                for ei, event in enumerate(events):
                    route = routes.get(event.get("p_log_type")) or self._route(event.get("p_log_type"))
                    mains = route[1]
                    if mains is None:
                        continue
                    # ImmutableDict -> PantherEvent of the log type's data model, no copy.
                    event.__class__ = route[0]
                    # The watchdog times each call by this iterator's progress.
                    slot[0] = it = iter(mains)
                    for main in it:
                        try:
                            result = main(event)
                        except BaseException as exc:  # noqa: BLE001
                            det = route[2][len(mains) - _length_hint(it) - 1]
                            append([ei, det.index, "rule: " + _describe(exc)])
                            continue
                        if result is not False:
                            det = route[2][len(mains) - _length_hint(it) - 1]
                            if result is True:
                                n = _alert_fields(det, event, ei, slot, n, append)
                                slot[0] = it
                            else:
                                append([ei, det.index, f"rule: TypeError: rule() returned {type(result).__name__}, not bool"])
        finally:
            slot[0] = 0
            _sequence[0] = n + 1
        sys.stderr.flush()
        return out

    # -- benchmark baseline --------------------------------------------------

    def baseline_prepare(self, kind, text):
        """Pre-built inputs for `baseline_run`: what plain CPython would already hold."""
        items = _loads(text)
        if kind == "policy":
            return [(item, self.policies_by_type.get(item.get("ResourceType"), ()) + tuple(self.all_type_policies)) for item in items]
        return [
            (PantherEvent(item, self.data_models.get(item.get("p_log_type"))), tuple(self.by_log_type.get(item.get("p_log_type"), ())))
            for item in items
        ]

    def baseline_run(self, prepared):
        """Calls the same detections on the pre-built inputs: no conversion, no guard."""
        hits = 0
        for item, dets in prepared:
            for det in dets:
                try:
                    if det.main(item) is True:
                        hits += 1
                        if det.kind == "rule":
                            # A match runs the optional functions, as in production.
                            for fn in det.optional.values():
                                fn(item)
                except Exception:  # noqa: BLE001
                    pass
        return hits

    # -- tests -------------------------------------------------------------

    def run_tests(self, kind, index, tests_json):
        """Runs one detection's Tests; returns JSON [{name, passed, actual, errors}]."""
        det = (self.policies if kind == "policy" else self.rules)[index]
        results = []
        production_kv = _kv[0]
        try:
            with redirect_stdout(sys.stderr):
                for test in json.loads(tests_json):
                    results.append(self._run_test(det, test))
        finally:
            _kv[0] = production_kv
        sys.stderr.flush()
        return json.dumps(results, default=str)

    def _run_test(self, det, test):
        name = test.get("Name", "<unnamed>")
        expected = test.get("ExpectedResult")
        errors = []
        _kv[0] = _MemoryKv()
        payload = test.get("Resource") if det.kind == "policy" else test.get("Log")
        if payload is None:
            payload = test.get("Log") if det.kind == "policy" else test.get("Resource")
        subject = _loads(json.dumps(payload if payload is not None else {}))
        if det.kind == "rule":
            lt = subject.get("p_log_type") or (det.log_types[0] if len(det.log_types) == 1 else None)
            subject = PantherEvent(subject, self.data_models.get(lt))
        patches = []
        try:
            for m in test.get("Mocks") or ():
                target = m.get("objectName")
                if not hasattr(det.module, target):
                    raise AttributeError(f"mock target {target!r} is not a name in {det.id}")
                patches.append(mock.patch.object(det.module, target, mock.MagicMock(return_value=m.get("returnValue"))))
            for p in patches:
                p.start()
        except BaseException as exc:  # noqa: BLE001
            for p in patches:
                try:
                    p.stop()
                except RuntimeError:
                    pass
            return {"name": name, "passed": False, "actual": None, "errors": [["mocks", _describe(exc)]]}
        actual = None
        try:
            try:
                actual = _guarded(det.main, subject)
            except BaseException as exc:  # noqa: BLE001
                errors.append([det.kind, _describe(exc)])
            else:
                if not isinstance(actual, bool):
                    errors.append([det.kind, f"TypeError: {det.kind}() returned {type(actual).__name__}, not bool"])
            alerting = (actual is True) if det.kind == "rule" else (actual is False)
            if not errors and alerting:
                for fname, fn in det.optional.items():
                    try:
                        value = _guarded(fn, subject)
                        _check_optional(fname, value)
                    except BaseException as exc:  # noqa: BLE001
                        errors.append([fname, _describe(exc)])
        finally:
            for p in reversed(patches):
                p.stop()
        passed = not errors and actual == expected
        return {"name": name, "passed": passed, "actual": actual, "errors": errors}


def _check_optional(name, value):
    if name == "alert_context":
        if not isinstance(value, Mapping):
            raise TypeError(f"alert_context() returned {type(value).__name__}, not a mapping")
        json.dumps(value, default=str)
    elif name == "severity":
        if str(value).upper() not in _SEVERITIES and str(value).upper() != "DEFAULT":
            raise ValueError(f"severity() returned {value!r}, not one of INFO..CRITICAL or DEFAULT")
    elif name == "destinations":
        if value is not None and not isinstance(value, (list, tuple)):
            raise TypeError(f"destinations() returned {type(value).__name__}, not a list")


# Positions in an alert list (src/outcome.rs reads them): event, rule, then these.
_ALERT_SLOTS = {"title": 2, "dedup": 3, "severity": 4, "alert_context": 5, "description": 6, "reference": 7, "runbook": 8, "destinations": 9}
_ALERT_ERRORS = 10


def _dedup_value(value):
    return str(value)[:1000]


def _context_value(value):
    _check_value("alert_context", value)
    return value


def _severity_value(value):
    _check_value("severity", value)
    value = str(value).upper()
    return None if value == "DEFAULT" else value


def _destinations_value(value):
    _check_value("destinations", value)
    return None if value is None else [str(v) for v in value]


# How each optional function's result goes into the alert (checked, then converted).
_ALERT_VALUES = {"dedup": _dedup_value, "alert_context": _context_value, "severity": _severity_value, "destinations": _destinations_value}


def _alert_fields(det, event, ei, slot, n, append):
    """Appends a matched rule's alert, with production fallbacks for failing optional
    functions, and returns the updated call counter.

    The alert is [event, rule, title, dedup, severity or None, alert_context,
    description, reference, runbook, destinations, errors or None]; the Rust side turns
    alert_context into JSON (other objects as `str()`, like `json.dumps(default=str)`).
    """
    alert = [ei, det.index, None, None, None, None, None, None, None, None, None]
    for fname, fn, pos, convert in det.optional_slots:
        n += 1
        slot[0] = n
        try:
            alert[pos] = convert(fn(event))
        except BaseException as exc:  # noqa: BLE001
            errors = alert[_ALERT_ERRORS]
            if errors is None:
                errors = alert[_ALERT_ERRORS] = []
            errors.append(f"{fname}: {_describe(exc)}")
    title = alert[2]
    if title is None:
        alert[2] = det.id
    if alert[3] is None:
        alert[3] = title[:1000] if title else "defaultDedupString:" + det.id
    append(alert)
    return n


class _Failed:
    """The result of a policy call that raised (its message is in the errors list)."""

    __slots__ = ()

    def __repr__(self):
        return "<failed>"


_FAILED = _Failed()


def _check_value(name, value):
    """Production checks of optional function results (tests also check JSON)."""
    if name == "alert_context":
        if not isinstance(value, Mapping):
            raise TypeError(f"alert_context() returned {type(value).__name__}, not a mapping")
    elif name == "severity":
        if str(value).upper() not in _SEVERITIES and str(value).upper() != "DEFAULT":
            raise ValueError(f"severity() returned {value!r}, not one of INFO..CRITICAL or DEFAULT")
    elif name == "destinations":
        if value is not None and not isinstance(value, (list, tuple)):
            raise TypeError(f"destinations() returned {type(value).__name__}, not a list")


_install_support_modules()
sys.meta_path.insert(0, _finder)
