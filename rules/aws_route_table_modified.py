from caracal_aws_helpers import actor, api_call, change_context

CHANGES = {
    "CreateRoute",
    "CreateRouteTable",
    "ReplaceRoute",
    "ReplaceRouteTableAssociation",
    "DeleteRouteTable",
    "DeleteRoute",
    "DisassociateRouteTable",
    "AssociateRouteTable",
}


def rule(event):
    return api_call(event, "ec2.amazonaws.com", CHANGES)


def _table(event):
    return (
        event.deep_get("requestParameters", "routeTableId")
        or event.deep_get("responseElements", "routeTable", "routeTableId")
        or event.deep_get("requestParameters", "associationId")
        or "<unknown route table>"
    )


def title(event):
    return f"{actor(event)} ran {event.get('eventName')} on route table {_table(event)}"


def dedup(event):
    return f"{actor(event)}:{_table(event)}"


def alert_context(event):
    return change_context(event)
