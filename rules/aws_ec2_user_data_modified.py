from caracal_aws_helpers import actor, api_call, aws_context


def rule(event):
    if not api_call(event, "ec2.amazonaws.com", {"ModifyInstanceAttribute"}):
        return False
    params = event.get("requestParameters") or {}
    return params.get("userData") is not None or params.get("attribute") == "userData"


def _instance(event):
    return event.deep_get("requestParameters", "instanceId", default="<unknown instance>")


def title(event):
    return f"{actor(event)} changed the user data of {_instance(event)}"


def dedup(event):
    return _instance(event)


def alert_context(event):
    context = aws_context(event)
    context["instance_id"] = _instance(event)
    return context
