from caracal_aws_helpers import actor, api_call, aws_context, lookup_result
from caracal_posture import BadLookup, resource_lookup


def target_user(event):
    """The user the key is for: the request's userName, else the caller (keys for self)."""
    return event.deep_get("requestParameters", "userName") or event.deep_get(
        "responseElements", "accessKey", "userName"
    ) or event.deep_get("userIdentity", "userName")


def user_arn(event):
    return f"arn:aws:iam::{event.get('recipientAccountId')}:user/{target_user(event)}"


def has_mfa(user):
    report = user.get("CredentialReport") or {}
    return bool(report.get("MfaActive")) or bool(user.get("VirtualMFA"))


def rule(event):
    if not api_call(event, "iam.amazonaws.com", {"CreateAccessKey"}) or not target_user(event):
        return False
    try:
        user = lookup_result(resource_lookup(user_arn(event)))
    except BadLookup:
        # Not scanned (yet): nothing known to join with.
        return False
    return not has_mfa(user)


def title(event):
    return f"{actor(event)} created an access key for {target_user(event)}, who has no MFA"


def dedup(event):
    return str(target_user(event))


def alert_context(event):
    context = aws_context(event)
    context["user"] = target_user(event)
    context["resource_id"] = user_arn(event)
    return context
