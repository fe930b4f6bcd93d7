from caracal_aws_helpers import actor, api_call, change_context

CHANGES = {
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
    "CreateSecurityGroup",
    "DeleteSecurityGroup",
    "ModifySecurityGroupRules",
    "UpdateSecurityGroupRuleDescriptionsIngress",
    "UpdateSecurityGroupRuleDescriptionsEgress",
}


def rule(event):
    return api_call(event, "ec2.amazonaws.com", CHANGES)


def _group(event):
    params = event.get("requestParameters") or {}
    return (
        params.get("groupId")
        or params.get("groupName")
        or event.deep_get("responseElements", "groupId")
        or "<unknown group>"
    )


def title(event):
    return f"{actor(event)} ran {event.get('eventName')} on security group {_group(event)}"


def dedup(event):
    return f"{actor(event)}:{_group(event)}"


def alert_context(event):
    context = change_context(event)
    context["vpc_id"] = event.deep_get("requestParameters", "vpcId")
    return context
