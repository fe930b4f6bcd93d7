import json

from caracal_aws_helpers import actor, api_call, aws_context

# Accounts outside this one that roles may trust (partners, the security tooling account).
TRUSTED_ACCOUNTS = set()


def _document(event):
    params = event.get("requestParameters") or {}
    text = params.get("assumeRolePolicyDocument") or params.get("policyDocument")
    if not isinstance(text, str):
        return {}
    try:
        document = json.loads(text)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _aws_principals(document):
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    found = []
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if principal == "*":
            found.append("*")
            continue
        values = principal.get("AWS") if isinstance(principal, dict) else None
        if isinstance(values, str):
            values = [values]
        found.extend(v for v in values or [] if isinstance(v, str))
    return found


def _account_of(principal):
    if principal == "*":
        return "*"
    if principal.isdigit():
        return principal
    parts = principal.split(":")
    return parts[4] if len(parts) > 4 else principal


def _outside(event):
    own = event.get("recipientAccountId")
    return sorted(
        {
            p
            for p in _aws_principals(_document(event))
            if _account_of(p) != own and _account_of(p) not in TRUSTED_ACCOUNTS
        }
    )


def rule(event):
    if not api_call(event, "iam.amazonaws.com", {"CreateRole", "UpdateAssumeRolePolicy"}):
        return False
    return bool(_outside(event))


def _role(event):
    return event.deep_get("requestParameters", "roleName", default="<unknown role>")


def title(event):
    return f"{actor(event)} let {', '.join(_outside(event))} assume role {_role(event)}"


def dedup(event):
    return _role(event)


def severity(event):
    return "CRITICAL" if "*" in _outside(event) else "DEFAULT"


def alert_context(event):
    context = aws_context(event)
    context["role"] = _role(event)
    context["external_principals"] = _outside(event)
    return context
