from caracal_aws_helpers import actor, aws_context, succeeded

EVERYONE = {"*", "arn:aws:iam::*:root"}


def rule(event):
    if event.get("eventSource") != "lambda.amazonaws.com" or not succeeded(event):
        return False
    # AddPermission20150331v2 (and older AddPermission20150331).
    if not str(event.get("eventName") or "").startswith("AddPermission"):
        return False
    if event.deep_get("requestParameters", "principal") not in EVERYONE:
        return False
    # A grant to a service principal scoped by source account/ARN is not public.
    return not (event.deep_get("requestParameters", "sourceAccount") or event.deep_get("requestParameters", "sourceArn"))


def _function(event):
    return event.deep_get("requestParameters", "functionName", default="<unknown function>")


def title(event):
    return f"{actor(event)} let anyone invoke Lambda function {_function(event)}"


def dedup(event):
    return _function(event)


def alert_context(event):
    context = aws_context(event)
    context["function"] = _function(event)
    context["action"] = event.deep_get("requestParameters", "action")
    context["statement"] = event.deep_get("responseElements", "statement")
    return context
