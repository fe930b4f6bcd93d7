from caracal_aws_helpers import actor, aws_context, change_context, succeeded

ALWAYS = {
    "DeleteDetector",
    "DisassociateFromMasterAccount",
    "DisassociateFromAdministratorAccount",
    "StopMonitoringMembers",
    "DeleteMembers",
    "DisassociateMembers",
}


def rule(event):
    if event.get("eventSource") != "guardduty.amazonaws.com" or not succeeded(event):
        return False
    name = event.get("eventName")
    if name in ALWAYS:
        return True
    if name == "UpdateDetector":
        return event.deep_get("requestParameters", "enable") is False
    # A filter with action ARCHIVE is a suppression rule: matching findings never surface.
    if name in ("CreateFilter", "UpdateFilter"):
        return str(event.deep_get("requestParameters", "action", default="")).upper() == "ARCHIVE"
    return False


def _detector(event):
    return event.deep_get("requestParameters", "detectorId", default="<unknown detector>")


def title(event):
    return f"{actor(event)} weakened GuardDuty with {event.get('eventName')} on detector {_detector(event)}"


def dedup(event):
    return f"{event.get('recipientAccountId')}:{event.get('awsRegion')}:{_detector(event)}"


def severity(event):
    return "MEDIUM" if event.get("eventName") in ("CreateFilter", "UpdateFilter") else "DEFAULT"


def alert_context(event):
    return change_context(event) if event.get("eventName") in ("CreateFilter", "UpdateFilter") else aws_context(event)
