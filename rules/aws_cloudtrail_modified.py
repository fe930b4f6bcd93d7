from caracal_aws_helpers import actor, api_call, change_context

# StopLogging and DeleteTrail are AWS.CloudTrail.LoggingStopped.
CHANGES = {"CreateTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors", "StartLogging"}


def rule(event):
    return api_call(event, "cloudtrail.amazonaws.com", CHANGES)


def _trail(event):
    return event.deep_get("requestParameters", "name") or event.deep_get(
        "requestParameters", "trailName", default="<unknown trail>"
    )


def title(event):
    return f"{actor(event)} ran {event.get('eventName')} on trail {_trail(event)}"


def dedup(event):
    return f"{event.get('recipientAccountId')}:{_trail(event)}"


def severity(event):
    # New or narrowed event selectors can silently drop data events from the trail.
    return "MEDIUM" if event.get("eventName") in ("UpdateTrail", "PutEventSelectors") else "DEFAULT"


def alert_context(event):
    return change_context(event)
