from caracal_aws_helpers import actor, api_call, change_context

CHANGES = {
    "CreateVpc",
    "DeleteVpc",
    "ModifyVpcAttribute",
    "AcceptVpcPeeringConnection",
    "CreateVpcPeeringConnection",
    "DeleteVpcPeeringConnection",
    "RejectVpcPeeringConnection",
    "AttachClassicLinkVpc",
    "DetachClassicLinkVpc",
    "DisableVpcClassicLink",
    "EnableVpcClassicLink",
}


def rule(event):
    return api_call(event, "ec2.amazonaws.com", CHANGES)


def _vpc(event):
    params = event.get("requestParameters") or {}
    return (
        params.get("vpcId")
        or params.get("vpcPeeringConnectionId")
        or event.deep_get("responseElements", "vpc", "vpcId")
        or event.deep_get("responseElements", "vpcPeeringConnection", "vpcPeeringConnectionId")
        or "<unknown vpc>"
    )


def title(event):
    return f"{actor(event)} ran {event.get('eventName')} on {_vpc(event)}"


def dedup(event):
    return f"{actor(event)}:{_vpc(event)}"


def severity(event):
    # Peering with another account joins networks; worth more attention than a new VPC.
    if event.get("eventName") in ("CreateVpcPeeringConnection", "AcceptVpcPeeringConnection"):
        return "MEDIUM"
    return "DEFAULT"


def alert_context(event):
    return change_context(event)
