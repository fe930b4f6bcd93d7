from panther_detection_helpers.caching import get_counter


def rule(event):
    return event.get("eventName") == "ConsoleLogin" and get_counter("logins") != "many"


def title(event):
    return "Login by " + event.deep_get("userIdentity", "arn", default="?")


def dedup(event):
    return event.get("sourceIPAddress", default="none")


def severity(event):
    return "critical" if event.deep_get("userIdentity", "type") == "Root" else "DEFAULT"


def destinations(event):
    return ["security"] if event.deep_get("userIdentity", "type") == "Root" else []


def description(event):
    return "A console login"


def reference(event):
    return "https://example.com/runbooks/login"


def runbook(event):
    return "Check the user."
