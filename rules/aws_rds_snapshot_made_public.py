from caracal_aws_helpers import actor, api_call, as_list, aws_context

CALLS = {"ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute"}


def rule(event):
    if not api_call(event, "rds.amazonaws.com", CALLS):
        return False
    if event.deep_get("requestParameters", "attributeName") != "restore":
        return False
    return "all" in as_list(event.deep_get("requestParameters", "valuesToAdd"))


def _snapshot(event):
    params = event.get("requestParameters") or {}
    return params.get("dBSnapshotIdentifier") or params.get("dBClusterSnapshotIdentifier") or "<unknown snapshot>"


def title(event):
    return f"{actor(event)} made RDS snapshot {_snapshot(event)} public"


def dedup(event):
    return _snapshot(event)


def alert_context(event):
    context = aws_context(event)
    context["snapshot"] = _snapshot(event)
    return context
