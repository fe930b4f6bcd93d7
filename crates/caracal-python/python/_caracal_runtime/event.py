"""The event a rule sees (`PantherEvent`) and data models (standard field names)."""

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from .lazy import _ABSENT, ImmutableDict, ImmutableList, _dict_contains, freeze, json_encoder, thaw

# What a path steps into by index: an event's lists, and plain ones (policies, tests).
_LISTS = (list, ImmutableList)


def _all_empty(value):
    """True for a list holding only (lists of) empty lists, as `[]` or `[[], []]`."""
    return isinstance(value, _LISTS) and all(_all_empty(v) for v in value)


def _walk(value, keys, default, return_val):
    """`deep_walk` below `value`: a mapping takes the next key; a list (or other
    non-string sequence) walks every element with the same keys and gathers the distinct
    results (a list result is spread into them); where the keys end, the value itself is
    the result, a list included, unless it holds nothing but empty lists. As Panther's
    `deep_walk` walks the raw event, a list or object found is a plain one (a copy)."""
    if not keys:
        if _all_empty(value):
            return default
        return thaw(value) if isinstance(value, (ImmutableList, dict)) else value
    if isinstance(value, Mapping):
        nxt = value.get(keys[0])
        return default if nxt is None else _walk(nxt, keys[1:], default, return_val)
    found = []
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        for item in value:
            result = _walk(item, keys, default, return_val)
            if result is None:
                continue
            for v in result if isinstance(result, _LISTS) else (result,):
                if v not in found:
                    found.append(v)
    if not found:
        return default
    if return_val == "first":
        return found[0]
    if return_val == "last":
        return found[-1]
    return found[0] if len(found) == 1 else found


_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+|\*)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
# A filter on list elements, as jsonpath-ng's extended parser reads it:
# `[?(@.name == 'ROLE_NAME')]`, `[?(@.a.b != 3)]`, `[?(@.flag)]`.
_FILTER_TOKEN = re.compile(
    r"\[\?\(\s*@\.([\w.\-]+)\s*(?:(==|!=)\s*('[^']*'|\"[^\"]*\"|-?\d+(?:\.\d+)?|true|false|null)\s*)?\)\]"
)
_STAR = object()


class _Filter:
    """The elements of a list whose `keys` lead to a value that compares as asked
    (or, without a comparison, to any value)."""

    __slots__ = ("keys", "op", "literal")

    def __init__(self, keys, op, literal):
        self.keys, self.op, self.literal = keys, op, literal

    def accepts(self, item):
        value = item
        for key in self.keys:
            if not isinstance(value, dict):
                return False
            value = _exact(value, key, _ABSENT)
            if value is _ABSENT:
                return False
        if self.op is None:
            return True
        # JSON's true is no number: `@.n == 1` does not match `true`.
        same = value == self.literal and isinstance(value, bool) == isinstance(self.literal, bool)
        return same == (self.op == "==")


def _literal(text):
    if text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[text]
    return float(text) if "." in text else int(text)


def compile_path(path):
    """Compiles the JSONPath subset data models use: `$.a.b`, `[0]`, `[*]`, `['k']` and
    filters such as `[?(@.name == 'x')]`. A path not starting with `$` is one key."""
    if not path.startswith("$"):
        return [path]
    steps, pos = [], 1
    while pos < len(path):
        f = _FILTER_TOKEN.match(path, pos)
        if f is not None:
            keys, op, literal = f.groups()
            steps.append(_Filter(keys.split("."), op, _literal(literal) if op else None))
            pos = f.end()
            continue
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


def _exact(mapping, key, default=None):
    """`mapping[key]` for exactly `key`, `default` without it. Data model paths are
    case-sensitive (panther-analysis-tool's JSONPath reads the plain event), unlike
    `event.get`, which falls back to another case. `get` first: it opens a lazy object."""
    value = mapping.get(key, _ABSENT)
    if value is _ABSENT or not _dict_contains(mapping, key):
        return default
    return value


def follow(value, steps):
    """The value at compiled path `steps` under `value` (a list of them under `[*]`);
    None when the path finds nothing."""
    for i, step in enumerate(steps):
        if step is _STAR or isinstance(step, _Filter):
            if not isinstance(value, _LISTS):
                return None
            if step is not _STAR:
                value = [v for v in value if step.accepts(v)]
            found = [follow(v, steps[i + 1 :]) for v in value]
            found = [v for v in found if v is not None]
            return found or None
        if isinstance(step, int):
            if not isinstance(value, _LISTS) or step >= len(value):
                return None
            value = value[step]
        elif isinstance(value, dict):
            value = _exact(value, step)
        else:
            return None
        if value is None:
            return None
    return value


def matches(value, steps, trail=()):
    """Every (path, value) the compiled path `steps` finds under `value`, the path as the
    list of keys and indexes that leads there (`[*]` tried on every element)."""
    for i, step in enumerate(steps):
        if step is _STAR or isinstance(step, _Filter):
            if not isinstance(value, _LISTS):
                return []
            found = []
            for n, item in enumerate(value):
                if step is not _STAR and not step.accepts(item):
                    continue
                found.extend(matches(item, steps[i + 1 :], trail + (n,)))
            return found
        if isinstance(step, int):
            if not isinstance(value, _LISTS) or step >= len(value):
                return []
            value = value[step]
        elif isinstance(value, dict):
            value = _exact(value, step)
        else:
            return []
        if value is None:
            return []
        trail = trail + (step,)
    return [(trail, value)]


def dotted(trail):
    """A path in the dotted form Panther prints: `resources.[0].ARN`."""
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in trail)


class DataModel:
    """Standard field names of one log type: a path or a method per name."""

    def __init__(self, model_id, mappings, module):
        self.id = model_id
        self.paths = {}
        self.methods = {}
        for m in mappings:
            name = m["Name"]
            if m.get("Path") is not None:
                steps = compile_path(m["Path"])
                # (text, steps, whether it may match several fields: `[*]` or a filter)
                several = any(step is _STAR or isinstance(step, _Filter) for step in steps)
                self.paths[name] = (m["Path"], steps, several)
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
    # As panther_core's: `json.dumps(..., default=PantherEvent.json_encoder)`.
    json_encoder = staticmethod(json_encoder)

    def __new__(cls, data=(), data_model=None):
        return dict.__new__(event_class(data_model, cls))

    def __init__(self, data=(), data_model=None):
        # Built from plain data (a detection's own unit tests): its lists become
        # ImmutableLists, as in decoded events.
        dict.__init__(self, freeze(dict(data)))

    def deep_get(self, *keys, default=None):
        """The value under the key path; `default` when a step is missing or None."""
        value = self
        for key in keys:
            if not isinstance(value, Mapping):
                return default
            value = value.get(key)
            if value is None:
                return default
        return value

    def deep_walk(self, *keys, default=None, return_val="all"):
        """The value under the key path, descending into lists: where a step meets a
        list, every element is walked and the distinct results gathered (one alone is
        returned as itself, several as a list; `return_val` "first" / "last": that one).
        A path ending on a list returns the list, even of one element."""
        return _walk(self, keys, default, return_val)

    def udm(self, *keys, default=None):
        """A standard field, as panther_core reads it: with one key and a data model, the
        mapped path's value or method's result (a mapped name that finds nothing gives
        `default`); otherwise the key path under `p_udm`, then on the event itself."""
        model = self._data_model
        if len(keys) == 1 and model is not None:
            name = keys[0]
            path = model.paths.get(name)
            if path is not None:
                steps = path[1]
                if path[2]:
                    # As panther_core: one match is that value (not a list of one,
                    # however many lists the path went through); several are an error,
                    # a plain Exception with its words, which tests print.
                    found = [v for _, v in matches(self, steps)]
                    if not found:
                        return default
                    if len(found) > 1:
                        text = re.sub(r"(?<=[^.$])\[", ".[", path[0])
                        raise Exception(  # noqa: TRY002 - the reference's type
                            f"JSONPath [{text}] in DataModel [{model.id}], matched multiple fields."
                        )
                    return found[0]
                value = follow(self, steps)
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
        """Where the field mapped to `name` is in this event, dotted as Panther prints it
        (`client.ipAddress` for the model's `$.client.ipAddress`, `resources.[0].ARN`),
        or the method's name; None when unmapped or when the path finds nothing here.
        Raises PantherError without a data model or when the path finds several."""
        model = self._data_model
        if model is None:
            raise PantherError(f"no data model for log type {self.get('p_log_type')!r}")
        path = model.paths.get(name)
        if path is not None:
            found = matches(self, path[1])
            if len(found) > 1:
                raise PantherError(f"JSONPath {path[0]!r} of data model {model.id} matched {len(found)} fields")
            return dotted(found[0][0]) if found else None
        fn = model.methods.get(name)
        return getattr(fn, "__name__", repr(fn)) if fn is not None else None

    def lookup(self, table, key):
        """A lookup table's row for `key`. caracal has no lookup tables yet: tests give
        rows under `_mocked_lookup_data_` {table: {key: row}} in the event, as
        panther-analysis-tool reads them; None otherwise."""
        return self.deep_get("_mocked_lookup_data_", table, key)

    def raw_view(self):
        """The event as plain dicts and lists, as Panther's `raw_view()` gives its
        wrapped (raw) mapping."""
        return thaw(self)

    def __reduce__(self):
        # Rebuilt as a plain PantherEvent (data models are per engine, not picklable).
        return (PantherEvent, (dict(self),))

    def event_time_epoch(self):
        """`p_event_time` in seconds since the epoch (UTC when it has no zone); 0 if unset."""
        text = self.get("p_event_time")
        if not text:
            return 0
        text = str(text).replace(" ", "T").replace("Z", "+00:00")
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return int(parsed.timestamp())


_event_classes = {}


def event_class(data_model, base=None):
    """The subclass of `base` (PantherEvent) for one data model (`base` itself for none)."""
    base = base or PantherEvent
    if data_model is None or base._data_model is data_model:
        return base
    key = (base, id(data_model))
    cls = _event_classes.get(key)
    if cls is None or cls._data_model is not data_model:
        namespace = {"__slots__": (), "_data_model": data_model, "__module__": base.__module__}
        cls = type(base)(base.__name__, (base,), namespace)
        _event_classes[key] = cls
    return cls
