from caracal_aws_helpers import actor, aws_context, succeeded


def rule(event):
    if event.get("eventSource") != "lambda.amazonaws.com" or not succeeded(event):
        return False
    # Lambda's CloudTrail names carry the API version: CreateFunctionUrlConfig20211031.
    name = str(event.get("eventName") or "")
    if not name.startswith(("CreateFunctionUrlConfig", "UpdateFunctionUrlConfig")):
        return False
    return event.deep_get("requestParameters", "authType") == "NONE"


def _function(event):
    return event.deep_get("requestParameters", "functionName", default="<unknown function>")


def title(event):
    return f"{actor(event)} exposed Lambda function {_function(event)} through an unauthenticated URL"


def dedup(event):
    return _function(event)


def alert_context(event):
    context = aws_context(event)
    context["function"] = _function(event)
    context["function_url"] = event.deep_get("responseElements", "functionUrl")
    return context
