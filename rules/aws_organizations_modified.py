from caracal_aws_helpers import actor, api_call, change_context

# LeaveOrganization is AWS.CloudTrail.LeaveOrganization.
CHANGES = {
    "AcceptHandshake",
    "AttachPolicy",
    "CreateAccount",
    "CreateOrganizationalUnit",
    "CreatePolicy",
    "DeclineHandshake",
    "DeleteOrganization",
    "DeleteOrganizationalUnit",
    "DeletePolicy",
    "DetachPolicy",
    "DisablePolicyType",
    "EnablePolicyType",
    "InviteAccountToOrganization",
    "MoveAccount",
    "RemoveAccountFromOrganization",
    "UpdatePolicy",
    "UpdateOrganizationalUnit",
    "DisableAWSServiceAccess",
    "DeregisterDelegatedAdministrator",
}
# Changes that loosen guardrails (SCPs) or remove accounts from them.
RISKY = {"DetachPolicy", "DeletePolicy", "DisablePolicyType", "RemoveAccountFromOrganization", "DeleteOrganization"}


def rule(event):
    return api_call(event, "organizations.amazonaws.com", CHANGES)


def _target(event):
    params = event.get("requestParameters") or {}
    for key in ("policyId", "accountId", "targetId", "organizationalUnitId", "name", "accountName"):
        if params.get(key):
            return params.get(key)
    return "the organization"


def title(event):
    return f"{actor(event)} ran {event.get('eventName')} on {_target(event)}"


def dedup(event):
    return f"{actor(event)}:{event.get('eventName')}:{_target(event)}"


def severity(event):
    return "HIGH" if event.get("eventName") in RISKY else "DEFAULT"


def alert_context(event):
    return change_context(event)
