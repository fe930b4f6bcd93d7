from caracal_aws_helpers import actor, api_call, aws_context


def rule(event):
    return api_call(event, "iam.amazonaws.com", {"CreateLoginProfile", "UpdateLoginProfile"})


def _target(event):
    return event.deep_get("requestParameters", "userName") or event.deep_get("userIdentity", "userName", default="<unknown>")


def title(event):
    verb = "gave" if event.get("eventName") == "CreateLoginProfile" else "reset the console password of"
    suffix = " console access" if verb == "gave" else ""
    return f"{actor(event)} {verb} IAM user {_target(event)}{suffix}"


def dedup(event):
    return _target(event)


def severity(event):
    # Setting a password for someone else is how backdoor console users are made.
    target = event.deep_get("requestParameters", "userName")
    caller = event.deep_get("userIdentity", "userName")
    return "MEDIUM" if target and target != caller else "LOW"


def alert_context(event):
    context = aws_context(event)
    context["target_user"] = _target(event)
    context["password_reset_required"] = event.deep_get("requestParameters", "passwordResetRequired")
    return context
