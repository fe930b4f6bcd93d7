from caracal_aws_helpers import actor, api_call, change_context

CHANGES = {
    "CreateCustomerGateway",
    "DeleteCustomerGateway",
    "CreateInternetGateway",
    "DeleteInternetGateway",
    "AttachInternetGateway",
    "DetachInternetGateway",
    "CreateEgressOnlyInternetGateway",
    "DeleteEgressOnlyInternetGateway",
    "CreateNatGateway",
    "DeleteNatGateway",
    "CreateVpnGateway",
    "DeleteVpnGateway",
    "AttachVpnGateway",
    "DetachVpnGateway",
}


def rule(event):
    return api_call(event, "ec2.amazonaws.com", CHANGES)


def _gateway(event):
    params = event.get("requestParameters") or {}
    for key in ("internetGatewayId", "customerGatewayId", "natGatewayId", "vpnGatewayId", "egressOnlyInternetGatewayId"):
        if params.get(key):
            return params.get(key)
    response = event.get("responseElements") or {}
    for key in ("internetGateway", "customerGateway", "natGateway", "vpnGateway"):
        found = response.get(key) if hasattr(response, "get") else None
        if hasattr(found, "get"):
            return found.get(key + "Id") or "<new gateway>"
    # NAT gateway calls wrap their parameters: {"CreateNatGatewayResponse": {"natGateway": ...}}.
    nat = event.deep_get("responseElements", "CreateNatGatewayResponse", "natGateway", "natGatewayId") or event.deep_get(
        "requestParameters", "DeleteNatGatewayRequest", "NatGatewayId"
    )
    return nat or "<unknown gateway>"


def title(event):
    return f"{actor(event)} ran {event.get('eventName')} on {_gateway(event)}"


def dedup(event):
    return f"{actor(event)}:{_gateway(event)}"


def alert_context(event):
    context = change_context(event)
    context["vpc_id"] = event.deep_get("requestParameters", "vpcId")
    return context
