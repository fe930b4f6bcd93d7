from caracal_aws_helpers import actor, api_call, as_list, aws_context


def rule(event):
    if not api_call(event, "ec2.amazonaws.com", {"ModifySnapshotAttribute"}):
        return False
    groups = event.deep_walk("requestParameters", "createVolumePermission", "add", "items", "group")
    return "all" in as_list(groups)


def _snapshot(event):
    return event.deep_get("requestParameters", "snapshotId", default="<unknown snapshot>")


def title(event):
    return f"{actor(event)} made EBS snapshot {_snapshot(event)} public"


def dedup(event):
    return _snapshot(event)


def alert_context(event):
    context = aws_context(event)
    context["snapshot_id"] = _snapshot(event)
    return context
