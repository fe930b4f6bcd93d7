import json

from compat_helpers import actor_name, as_event
from panther_core import PantherEvent
from panther_core.immutable import ImmutableCaseInsensitiveDict, ImmutableList, json_encoder


def rule(event):
    tags = event.get("tags", default=[])
    if not isinstance(tags, ImmutableList):
        return False
    if not isinstance(event.get("userIdentity"), ImmutableCaseInsensitiveDict):
        return False
    built = as_event({"userIdentity": {"userName": "bob"}})
    return isinstance(event, PantherEvent) and actor_name(built) == "bob" and "admin" in tags


def alert_context(event):
    copy = event.to_dict()
    copy["seen"] = True  # a plain, mutable copy
    return {"doc": json.dumps(copy, default=json_encoder, sort_keys=True), "epoch": event.event_time_epoch()}
