"""Resources read in part (#11.8b).

When a detail call fails during a scan, the collector keeps the resource with what it
read and lists the failure under `caracal:errors`, naming the `fields` the call would
have filled. A policy must not judge such a resource on a missing part: reading one of
those fields (`[]`, `get`, `in`) raises `UnknownAttribute`, so the policy's verdict is
ERROR with the reason, while policies that read only known fields still PASS or FAIL.
"""

from .lazy import ImmutableDict

ERRORS = "caracal:errors"


class UnknownAttribute(Exception):
    """A policy read a field that a failed AWS call left unknown.

    Deliberately not a KeyError: `except KeyError` in a policy must not turn an unknown
    into an absent value."""


class PartialResource(ImmutableDict):
    """A resource whose `unknown` fields ({name: why}) raise on every kind of read."""

    __slots__ = ("unknown",)

    def _refuse(self, key):
        why = self.unknown.get(key) if isinstance(key, str) else None
        if why is not None:
            raise UnknownAttribute(f"{key} is unknown: {why}")

    def __missing__(self, key):
        self._refuse(key)
        return ImmutableDict.__missing__(self, key)

    def get(self, key, default=None):
        self._refuse(key)
        return ImmutableDict.get(self, key, default)

    def __contains__(self, key):
        self._refuse(key)
        return ImmutableDict.__contains__(self, key)

    def __reduce__(self):
        return (_rebuild, (dict(self), self.unknown))


def _rebuild(items, unknown):
    out = PartialResource(items)
    out.unknown = unknown
    return out


def partial(resource):
    """`resource` itself, or a PartialResource when its noted failures name fields."""
    notes = dict.get(resource, ERRORS) if isinstance(resource, dict) else None
    if not notes:
        return resource
    unknown = {}
    for note in notes:
        if not isinstance(note, dict):
            continue
        why = f"{note.get('operation', 'a call')} failed: {note.get('message', '')}"
        for field in note.get("fields") or ():
            unknown[field] = why
    return _rebuild(resource, unknown) if unknown else resource
