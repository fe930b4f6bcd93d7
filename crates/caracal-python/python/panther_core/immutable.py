"""`panther_core.immutable`: the read-only containers events are made of.

Nested objects of caracal's events are `ImmutableDict`s (case-insensitive on a miss,
like Panther's), so `ImmutableCaseInsensitiveDict` is that class. Lists of events are
`ImmutableList`s, as in Panther (not `list`s); `ImmutableList(items)` builds one, as
helpers that wrap values do. Policies' resources keep plain lists, as
panther-analysis-tool hands them over."""

from _caracal_runtime.lazy import ImmutableDict, ImmutableList, json_encoder

ImmutableCaseInsensitiveDict = ImmutableDict

__all__ = ["ImmutableCaseInsensitiveDict", "ImmutableList", "json_encoder"]
