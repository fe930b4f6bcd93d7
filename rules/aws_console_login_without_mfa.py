from caracal_aws_helpers import actor, aws_context


def rule(event):
    return (
        event.get("eventName") == "ConsoleLogin"
        and event.deep_get("userIdentity", "type") == "IAMUser"
        and event.deep_get("responseElements", "ConsoleLogin") == "Success"
        and event.deep_get("additionalEventData", "MFAUsed") == "No"
    )


def title(event):
    return f"{actor(event)} signed in to the console without MFA"


def dedup(event):
    return str(actor(event))


def alert_context(event):
    return aws_context(event)
