from caracal_aws_helpers import actor, aws_context, succeeded

ATTACH = {"AttachUserPolicy", "AttachGroupPolicy", "AttachRolePolicy"}


def rule(event):
    return (
        event.get("eventName") in ATTACH
        and succeeded(event)
        and event.deep_get("requestParameters", "policyArn", default="").endswith(":policy/AdministratorAccess")
    )


def title(event):
    params = event.get("requestParameters") or {}
    target = params.get("userName") or params.get("groupName") or params.get("roleName")
    return f"{actor(event)} attached AdministratorAccess to {target}"


def alert_context(event):
    return aws_context(event)
