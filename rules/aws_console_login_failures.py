from caracal_aws_helpers import actor, aws_context
from panther_detection_helpers.caching import evaluate_threshold

THRESHOLD = 5
WINDOW_SECONDS = 3600


def rule(event):
    if event.get("eventName") != "ConsoleLogin":
        return False
    if event.deep_get("responseElements", "ConsoleLogin") != "Failure":
        return False
    return evaluate_threshold(f"console-failures:{actor(event)}", THRESHOLD, WINDOW_SECONDS)


def title(event):
    return f"Repeated failed console logins for {actor(event)}"


def dedup(event):
    return actor(event)


def alert_context(event):
    return aws_context(event)
