from caracal_aws_helpers import actor, aws_context, succeeded

STOPPING = {"StopConfigurationRecorder", "DeleteConfigurationRecorder", "DeleteDeliveryChannel"}


def rule(event):
    return event.get("eventSource") == "config.amazonaws.com" and event.get("eventName") in STOPPING and succeeded(event)


def title(event):
    return f"{actor(event)} ran {event.get('eventName')}"


def dedup(event):
    return f"{event.get('recipientAccountId')}:{event.get('awsRegion')}"


def alert_context(event):
    return aws_context(event)
