"""Shared helpers of the corpus: called from several rules, as public packs call
panther_base_helpers (keyword defaults, nested lookups, building events)."""

from panther_core import PantherEvent


def actor_name(event):
    return event.deep_get("userIdentity", "userName", default="<unknown>")


def context(event):
    return {
        "eventName": event.get("eventName", default="<no event name>"),
        "source": event.get("eventsource", "<no source>"),
        "region": event.get("awsRegion", default="<no region>"),
    }


def as_event(mapping):
    """Wraps a plain mapping the way helpers build events for udm lookups."""
    return PantherEvent(mapping, None)
