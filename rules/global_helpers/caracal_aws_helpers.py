"""Helpers shared by caracal's bundled CloudTrail rules (importable as caracal_aws_helpers)."""

from collections.abc import Mapping, Sequence

WORLD_CIDRS = {"0.0.0.0/0", "::/0"}


def succeeded(event):
    """True when the API call did not return an error code."""
    return not event.get("errorCode")


def api_call(event, source, names):
    """True for a successful call of one of `names` on the service `source`
    (e.g. "ec2.amazonaws.com")."""
    return event.get("eventSource") == source and event.get("eventName") in names and succeeded(event)


def as_list(value):
    """deep_walk gives a scalar for one match and a list for several: always a list."""
    if value is None:
        return []
    # Any sequence but text: panther-analysis-tool's events hold lists as ImmutableList,
    # which is no `list`.
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return list(value)
    return [value]


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


def change_context(event):
    """aws_context plus the request parameters, for rules about configuration changes."""
    context = aws_context(event)
    params = event.get("requestParameters")
    context["request_parameters"] = params.to_dict() if hasattr(params, "to_dict") else params
    return context


def lookup_result(value):
    """A posture lookup's answer as a mapping. In production lookups return mappings; a
    test's Mocks returnValue is a string in the pack format, so JSON text is read too."""
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, Mapping) else {}
