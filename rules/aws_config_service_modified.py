from caracal_aws_helpers import actor, api_call, change_context

# StopConfigurationRecorder / DeleteConfigurationRecorder / DeleteDeliveryChannel are
# AWS.CloudTrail.ConfigRecordingStopped.
CHANGES = {
    "PutConfigurationRecorder",
    "PutDeliveryChannel",
    "DeleteConfigRule",
    "DeleteConformancePack",
    "DeleteConfigurationAggregator",
    "DeleteEvaluationResults",
}
DELETIONS = {"DeleteConfigRule", "DeleteConformancePack", "DeleteConfigurationAggregator", "DeleteEvaluationResults"}


def rule(event):
    return api_call(event, "config.amazonaws.com", CHANGES)


def title(event):
    return f"{actor(event)} changed AWS Config with {event.get('eventName')}"


def dedup(event):
    return f"{event.get('recipientAccountId')}:{event.get('awsRegion')}:{event.get('eventName')}"


def severity(event):
    return "MEDIUM" if event.get("eventName") in DELETIONS else "DEFAULT"


def alert_context(event):
    return change_context(event)
