"""A scheduled rule: one row per principal and address, from its scheduled query."""

DENIED_CALLS = 10


def rule(event):
    denied = event.get("denied")
    return isinstance(denied, int) and denied >= DENIED_CALLS


def title(event):
    principal = event.get("principal") or "<unknown principal>"
    return f"{principal} had {event.get('denied')} AWS API calls denied in a day"


def dedup(event):
    return f"{event.get('principal')}:{event.get('source_ip')}"


def alert_context(event):
    keys = ("principal", "source_ip", "account", "denied", "actions", "first_seen", "last_seen")
    return {k: event.get(k) for k in keys}
