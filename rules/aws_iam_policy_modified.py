from caracal_aws_helpers import actor, api_call, change_context

POLICY_CHANGES = {
    "CreatePolicy",
    "CreatePolicyVersion",
    "DeletePolicy",
    "DeletePolicyVersion",
    "SetDefaultPolicyVersion",
    "PutUserPolicy",
    "PutGroupPolicy",
    "PutRolePolicy",
    "DeleteUserPolicy",
    "DeleteGroupPolicy",
    "DeleteRolePolicy",
    "AttachUserPolicy",
    "AttachGroupPolicy",
    "AttachRolePolicy",
    "DetachUserPolicy",
    "DetachGroupPolicy",
    "DetachRolePolicy",
}


def rule(event):
    return api_call(event, "iam.amazonaws.com", POLICY_CHANGES)


def _target(event):
    params = event.get("requestParameters") or {}
    for key in ("userName", "groupName", "roleName", "policyArn", "policyName"):
        if params.get(key):
            return params.get(key)
    return "<unknown>"


def title(event):
    return f"{actor(event)} ran {event.get('eventName')} on {_target(event)}"


def dedup(event):
    return f"{actor(event)}:{_target(event)}"


def alert_context(event):
    return change_context(event)
