from caracal_okta_helpers import debug_data, event_type, okta_actor, okta_context, outcome, target_users, targets

GRANTS = {"user.account.privilege.grant", "group.privilege.grant"}


def _privileges(event):
    return str(debug_data(event, "privilegeGranted", ""))


def rule(event):
    return event_type(event) in GRANTS and outcome(event) == "SUCCESS"


def _grantee(event):
    users = target_users(event)
    if users:
        return ", ".join(str(u) for u in users)
    groups = [t.get("displayName") or t.get("id") for t in targets(event, "UserGroup")]
    return ", ".join(str(g) for g in groups) or "<unknown target>"


def title(event):
    privileges = _privileges(event) or "an admin role"
    return f"{okta_actor(event)} granted {privileges} to {_grantee(event)}"


def dedup(event):
    return f"{_grantee(event)}:{_privileges(event)}"


def severity(event):
    return "CRITICAL" if "super" in _privileges(event).lower() else "DEFAULT"


def alert_context(event):
    context = okta_context(event)
    context["privileges_granted"] = _privileges(event)
    context["grantee"] = _grantee(event)
    return context
