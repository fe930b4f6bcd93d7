from caracal_aws_helpers import actor, api_call, change_context

CHANGES = {
    "CreateNetworkAcl",
    "CreateNetworkAclEntry",
    "DeleteNetworkAcl",
    "DeleteNetworkAclEntry",
    "ReplaceNetworkAclEntry",
    "ReplaceNetworkAclAssociation",
}


def rule(event):
    return api_call(event, "ec2.amazonaws.com", CHANGES)


def _acl(event):
    return (
        event.deep_get("requestParameters", "networkAclId")
        or event.deep_get("responseElements", "networkAcl", "networkAclId")
        or event.deep_get("requestParameters", "associationId")
        or "<unknown acl>"
    )


def title(event):
    return f"{actor(event)} ran {event.get('eventName')} on network ACL {_acl(event)}"


def dedup(event):
    return f"{actor(event)}:{_acl(event)}"


def alert_context(event):
    return change_context(event)
