"""Immutable event objects: `ImmutableDict`, `LazyDict` (one still in JSON text form)
and `ImmutableList`, the lists of events.

The Rust decoder (src/decode.rs) builds batches out of these classes directly (by their
`tp_new`, so none may define `__new__`, nor the dicts `__init__`).
"""

import json
from collections.abc import Sequence


def _read_only(self, *args, **kwargs):
    raise TypeError(f"'{type(self).__name__}' is immutable; use to_dict() for a copy")


_dict_get = dict.get
_dict_getitem = dict.__getitem__
_dict_contains = dict.__contains__
_ABSENT = object()

# The key tuple of a dict -> {lowercased key: the first key with that lowercase}:
# `fold_key`'s memory, bounded, cleared when full.
_FOLDS = {}
_FOLDS_MAX = 4096


def fold_key(mapping, key):
    """The key of `mapping` that equals `key` but for case (the first one, in order), or
    None: what a lookup falls back to when the exact key is missing, as Panther's event
    does (`event.get("eventsource")` finds `eventSource`). The Python version, used
    from disk (tests); the binary sets src/fold.rs `fold_key` (`set_fold`), which scans
    the keys in place, ~5x faster per miss."""
    if type(key) is not str or not mapping:
        return None
    keys = tuple(mapping)
    folded = _FOLDS.get(keys)
    if folded is None:
        folded = {}
        for k in keys:
            if type(k) is str:
                folded.setdefault(k.lower(), k)
        if len(_FOLDS) >= _FOLDS_MAX:
            _FOLDS.clear()
        _FOLDS[keys] = folded
    return folded.get(key.lower())


_fold = fold_key


def set_fold(fold):
    """Makes `fold(mapping, key) -> key or None` the case-insensitive fallback."""
    global _fold
    _fold = fold


class ImmutableDict(dict):
    """A dict that refuses writes. Nested objects of events and resources are these.

    Lookups (`[]`, `get`, `in`) take the exact key at C speed; only a miss falls back to
    a case-insensitive match (`_fold`). `get` accepts its default by keyword."""

    __slots__ = ()
    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _read_only
    __ior__ = _read_only

    def __missing__(self, key):
        # dict's `[]` calls this on a miss only: hits never reach Python code.
        found = _fold(self, key)
        if found is None:
            raise KeyError(key)
        return _dict_getitem(self, found)

    def get(self, key, default=None):
        """The value under `key` (or under the same key in another case); `default`
        when there is none."""
        value = _dict_get(self, key, _ABSENT)
        if value is _ABSENT:
            found = _fold(self, key)
            return default if found is None else _dict_getitem(self, found)
        return value

    def __contains__(self, key):
        return _dict_contains(self, key) or _fold(self, key) is not None

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def to_dict(self):
        """A mutable deep copy (dicts and lists)."""
        return thaw(self)

    # As Panther's immutable objects: `copy()` is a plain, mutable deep copy.
    copy = to_dict

    def __reduce__(self):
        # Pickle rebuilds through the constructor: item by item would hit __setitem__.
        return (ImmutableDict, (dict(self),))


class ImmutableList(Sequence):
    """The read-only list of an event, as Panther's `panther_core.immutable.ImmutableList`:
    a sequence, but neither a `list` nor a `tuple` (`isinstance(v, list)` is False, as
    rules written for Panther expect), equal to a list or tuple with the same items; a
    slice is a plain tuple, `copy()` / `as_list()` a mutable deep copy, and `+` or
    `json.dumps` without `panther_core.immutable.json_encoder` raise, as there.

    Policies' resources keep plain lists: panther-analysis-tool hands policies the
    resource as decoded. `_items` is a tuple; the Rust decoder sets it on an instance made
    by `tp_new` (no `__init__` call)."""

    __slots__ = ("_items",)

    def __init__(self, items=()):
        self._items = tuple(freeze(v) for v in items)

    def __getitem__(self, index):
        if type(index) is slice:
            # As Panther's: a slice is a plain tuple of the raw (plain) items.
            return tuple(thaw(v) for v in self._items[index])
        return self._items[index]

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def __reversed__(self):
        return reversed(self._items)

    def __contains__(self, value):
        return value in self._items

    def index(self, value, start=0, stop=None):
        """The position of the first item equal to `value` (ValueError without one)."""
        return self._items.index(value, start, len(self._items) if stop is None else stop)

    def count(self, value):
        """How many items equal `value`."""
        return self._items.count(value)

    def __eq__(self, other):
        if isinstance(other, ImmutableList):
            return self._items == other._items
        if isinstance(other, (list, tuple)):
            return len(self._items) == len(other) and self._items == tuple(other)
        return False

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        # As Panther's: the raw items (plain lists and dicts inside) as a tuple.
        return f"ImmutableList({tuple(thaw(v) for v in self._items)!r})"

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (ImmutableList, (self._items,))

    def copy(self):
        """A mutable deep copy (dicts and lists)."""
        return thaw(self)

    as_list = copy


_LISTS = (list, tuple, ImmutableList)


def json_encoder(value):
    """`json.dumps(..., default=json_encoder)` for event values, as panther_core's: an
    ImmutableList as a list (caracal's objects are dicts already); TypeError otherwise."""
    if isinstance(value, ImmutableList):
        return list(value._items)
    raise TypeError(f"object of type {type(value)} is not JSON serializable")


def json_text(value):
    """`json.dumps(..., default=json_text)`: an ImmutableList as a list, anything else
    that JSON has no form for as its `str()`."""
    return list(value._items) if isinstance(value, ImmutableList) else str(value)


def thaw(value):
    """`value` with every dict, list, tuple and ImmutableList in it copied into a plain
    dict or list."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, _LISTS):
        return [thaw(v) for v in value]
    return value


def freeze(value):
    """`value` with every list in it (not in tuples) made an ImmutableList and every
    other dict an ImmutableDict: an event as the Rust decoder builds it. In place for
    ImmutableDicts."""
    if type(value) is list:
        return ImmutableList(value)
    if isinstance(value, dict):
        if not isinstance(value, ImmutableDict):
            value = ImmutableDict(value)
        for k, v in dict.items(value):
            if isinstance(v, (list, dict)):
                dict.__setitem__(value, k, freeze(v))
    return value


# json.loads with ImmutableDict objects: what Python decodes when Rust does not.
loads = json.JSONDecoder(object_hook=ImmutableDict).decode


def event_loads(text):
    """`loads` for events: lists become ImmutableLists."""
    return freeze(loads(text))

RAW = object()  # the key under which a LazyDict keeps its JSON text


def _fill(lazy, text, events):
    """Decodes a lazy object's text into it (lists as ImmutableLists with `events`);
    False when it cannot (then `loads` does). Replaced by the Rust decoder
    (src/decode.rs `fill_lazy`) through `set_fill`."""
    return False


def set_fill(fill):
    """Makes `fill(lazy, text, events) -> bool` the decoder that opens lazy objects."""
    global _fill
    _fill = fill


class LazyDict(ImmutableDict):
    """An ImmutableDict still in JSON text form (src/decode.rs makes these for the large
    nested objects of events and resources, which most detections never open).

    It holds {RAW: text}: never empty, so C code that tests the size first (json.dumps)
    goes on to call items(). Every reading method decodes the text into the dict (`_fill`,
    the Rust decoder; `loads` for what it leaves to Python), then
    turns the object into a plain ImmutableDict, so later reads run at C speed. Interrupted
    half-way (time limit), the next read finishes the job: decoding is idempotent."""

    __slots__ = ()
    _events = False

    def _load(self):
        text = dict.get(self, RAW)
        if text is not None and not _fill(self, text, self._events):
            dict.update(self, (event_loads if self._events else loads)(text))
            dict.__delitem__(self, RAW)
        self.__class__ = ImmutableDict
        return self

    def __eq__(self, other):
        if isinstance(other, LazyDict):
            other._load()
        return dict.__eq__(self._load(), other)

    def __ne__(self, other):
        if isinstance(other, LazyDict):
            other._load()
        return dict.__ne__(self._load(), other)

    __hash__ = None

    def __reduce_ex__(self, protocol):
        return self._load().__reduce_ex__(protocol)


def _opening(name):
    """ImmutableDict's method `name`, called once the lazy object is decoded."""
    method = getattr(ImmutableDict, name)

    def opened(self, *args, **kwargs):
        return method(self._load(), *args, **kwargs)

    opened.__name__ = opened.__qualname__ = name
    return opened


# Every reading method opens the object first (equality and pickling are above).
for _name in (
    "get", "__getitem__", "__contains__", "__iter__", "__reversed__", "__len__", "keys",
    "values", "items", "copy", "__or__", "__ror__", "__repr__", "__sizeof__",
):
    setattr(LazyDict, _name, _opening(_name))
del _name



class LazyEventDict(LazyDict):
    """A LazyDict of an event: its lists open as ImmutableLists."""

    __slots__ = ()
    _events = True


# What detections see: type(event["requestParameters"]).__name__ is the same either way.
LazyDict.__name__ = LazyDict.__qualname__ = "ImmutableDict"
LazyEventDict.__name__ = LazyEventDict.__qualname__ = "ImmutableDict"
