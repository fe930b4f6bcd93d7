from caracal_aws_helpers import actor, aws_context, succeeded


def rule(event):
    return (
        event.get("eventSource") == "kms.amazonaws.com"
        and event.get("eventName") in ("DisableKey", "ScheduleKeyDeletion")
        and succeeded(event)
    )


def title(event):
    key = event.deep_get("requestParameters", "keyId", default="<unknown key>")
    return f"{actor(event)} ran {event.get('eventName')} on {key}"


def severity(event):
    return "CRITICAL" if event.get("eventName") == "ScheduleKeyDeletion" else "DEFAULT"


def dedup(event):
    return str(event.deep_get("requestParameters", "keyId"))


def alert_context(event):
    return aws_context(event)
