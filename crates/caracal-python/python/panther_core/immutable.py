"""`panther_core.immutable`: the read-only containers events are made of.

Nested objects of caracal's events are `ImmutableDict`s (case-insensitive on a miss,
like Panther's), so `ImmutableCaseInsensitiveDict` is that class. Lists inside events
are plain lists; `isinstance(value, ImmutableList)` holds for lists and tuples, and
`ImmutableList(items)` builds a read-only sequence, as helpers that wrap values do."""

from collections.abc import Sequence

from _caracal_runtime.lazy import ImmutableDict, thaw

ImmutableCaseInsensitiveDict = ImmutableDict


class ImmutableList(Sequence):
    """A read-only sequence; lists and tuples count as instances too."""

    def __init__(self, items=()):
        self._items = tuple(items)

    def __getitem__(self, index):
        return self._items[index]

    def __len__(self):
        return len(self._items)

    def __eq__(self, other):
        if isinstance(other, ImmutableList):
            return self._items == tuple(other)
        if isinstance(other, (list, tuple)):
            return self._items == tuple(other)
        return NotImplemented

    __hash__ = None

    def __repr__(self):
        return f"ImmutableList({list(self._items)!r})"

    def as_list(self):
        """A mutable deep copy."""
        return thaw(self._items)

    copy = as_list


ImmutableList.register(list)
ImmutableList.register(tuple)


def json_encoder(value):
    """`json.dumps(..., default=json_encoder)`: an ImmutableList as a list (mappings and
    lists need no help); TypeError for anything else, as json does."""
    if isinstance(value, ImmutableList):
        return list(value)
    raise TypeError(f"object of type {type(value).__name__} is not JSON serializable")


__all__ = ["ImmutableCaseInsensitiveDict", "ImmutableList", "json_encoder"]
