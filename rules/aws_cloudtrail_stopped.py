from caracal_aws_helpers import actor, aws_context, succeeded

STOPPING = {"StopLogging", "DeleteTrail"}


def rule(event):
    return (
        event.get("eventSource") == "cloudtrail.amazonaws.com"
        and event.get("eventName") in STOPPING
        and succeeded(event)
    )


def title(event):
    trail = event.deep_get("requestParameters", "name", default="<unknown trail>")
    return f"{actor(event)} ran {event.get('eventName')} on {trail}"


def dedup(event):
    return f"{event.get('recipientAccountId')}:{event.deep_get('requestParameters', 'name')}"


def alert_context(event):
    return aws_context(event)
