import time

from caracal_aws_helpers import actor, aws_context
from panther_detection_helpers.caching import increment_counter

THRESHOLD = 5
WINDOW_SECONDS = 3600


def rule(event):
    if event.get("eventName") != "ConsoleLogin":
        return False
    if event.deep_get("responseElements", "ConsoleLogin") != "Failure":
        return False
    key = f"console-failures:{actor(event)}"
    return increment_counter(key, 1, int(time.time()) + WINDOW_SECONDS) >= THRESHOLD


def title(event):
    return f"Repeated failed console logins for {actor(event)}"


def dedup(event):
    return actor(event)


def alert_context(event):
    return aws_context(event)
