"""Helpers shared by caracal's bundled CloudTrail rules (importable as caracal_aws_helpers)."""

WORLD_CIDRS = {"0.0.0.0/0", "::/0"}


def succeeded(event):
    """True when the API call did not return an error code."""
    return not event.get("errorCode")


def actor(event):
    """Who made the call: the data model's actor_user, else the identity's ARN."""
    return event.udm("actor_user") or event.deep_get("userIdentity", "arn", default="<unknown>")


def aws_context(event):
    """The alert context every CloudTrail rule attaches."""
    return {
        "account": event.get("recipientAccountId"),
        "region": event.get("awsRegion"),
        "event_name": event.get("eventName"),
        "actor": actor(event),
        "source_ip": event.udm("source_ip"),
        "user_agent": event.get("userAgent"),
    }
