"""Helpers shared by caracal's Okta System Log rules (importable as caracal_okta_helpers)."""

from collections.abc import Sequence


def okta_get(event, key, default=None):
    """A top-level field; some pipelines store Okta's keys lower-cased (eventtype, debugcontext)."""
    value = event.get(key)
    if value is None:
        value = event.get(key.lower())
    return default if value is None else value


def event_type(event):
    return okta_get(event, "eventType")


def debug_data(event, key, default=None):
    """A value under debugContext.debugData (either key spelling)."""
    data = (okta_get(event, "debugContext") or {}).get("debugData") or {}
    value = data.get(key) if hasattr(data, "get") else None
    return default if value is None else value


def okta_actor(event):
    """The actor's login (alternateId), else its display name or id."""
    actor = event.get("actor") or {}
    return actor.get("alternateId") or actor.get("displayName") or actor.get("id") or "<unknown>"


def outcome(event):
    """SUCCESS, FAILURE, ALLOW, DENY, ... (upper case), or "" when absent."""
    return str(event.deep_get("outcome", "result", default="")).upper()


def targets(event, kind=None):
    """The event's targets (a list of mappings), optionally only those of one type."""
    found = event.get("target") or []
    # Any sequence but text (panther-analysis-tool's events hold ImmutableList, no list).
    if isinstance(found, (str, bytes)) or not isinstance(found, Sequence):
        found = [found]
    return [t for t in found if hasattr(t, "get") and (kind is None or t.get("type") == kind)]


def target_users(event):
    """Logins of the users the event acted on."""
    return [t.get("alternateId") or t.get("displayName") or t.get("id") for t in targets(event, "User")]


def okta_context(event):
    """The alert context every Okta rule attaches."""
    return {
        "actor": okta_actor(event),
        "event_type": event_type(event),
        "outcome": outcome(event),
        "reason": event.deep_get("outcome", "reason"),
        "client_ip": event.deep_get("client", "ipAddress"),
        "user_agent": event.deep_get("client", "userAgent", "rawUserAgent"),
        "country": event.deep_get("client", "geographicalContext", "country"),
        "targets": target_users(event),
    }
