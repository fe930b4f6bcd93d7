from caracal_aws_helpers import actor, api_call, as_list, aws_context

READS = {"GetSecretValue", "BatchGetSecretValue"}

# Principals (IAM ARNs, or for roles the role ARN from sessionIssuer) allowed to read secrets
# directly even though they are people or long-lived keys, e.g. a break-glass user.
ALLOWED_PRINCIPALS = {
    "arn:aws:iam::123456789012:user/break-glass",
}
# Applications read secrets through their roles; people normally do not. Roles whose
# name starts with one of these are human sign-ins (IAM Identity Center, federation).
HUMAN_ROLE_PREFIXES = ("AWSReservedSSO_",)


def _principal(event):
    identity = event.get("userIdentity") or {}
    if identity.get("type") == "AssumedRole":
        return event.deep_get("userIdentity", "sessionContext", "sessionIssuer", "arn") or identity.get("arn")
    return identity.get("arn")


def rule(event):
    if not api_call(event, "secretsmanager.amazonaws.com", READS):
        return False
    # Secrets Manager reading on a service's behalf (rotation, CloudFormation) is expected.
    if event.deep_get("userIdentity", "invokedBy"):
        return False
    if _principal(event) in ALLOWED_PRINCIPALS:
        return False
    kind = event.deep_get("userIdentity", "type")
    if kind in ("IAMUser", "Root"):
        return True
    if kind == "AssumedRole":
        role = event.deep_get("userIdentity", "sessionContext", "sessionIssuer", "userName", default="")
        return str(role).startswith(HUMAN_ROLE_PREFIXES)
    return False


def _secret(event):
    """The secret read, as text: its id, the ids of a batch read, or a batch's filters
    (`key=value,value; ...`)."""
    params = event.get("requestParameters") or {}
    if params.get("secretId"):
        return str(params.get("secretId"))
    ids = as_list(params.get("secretIdList"))
    if ids:
        return ", ".join(str(i) for i in ids)
    filters = [f for f in as_list(params.get("filters")) if hasattr(f, "get")]
    if filters:
        return "filter " + "; ".join(
            f"{f.get('key')}={','.join(str(v) for v in as_list(f.get('values')))}" for f in filters
        )
    return "<unknown secret>"


def title(event):
    return f"{actor(event)} read secret {_secret(event)} directly"


def dedup(event):
    return str(actor(event))


def alert_context(event):
    context = aws_context(event)
    context["secret"] = _secret(event)
    context["principal"] = _principal(event)
    return context
