def policy(resource):
    return any(
        (log.get("FlowLogStatus") in (None, "ACTIVE")) and log.get("TrafficType") in ("REJECT", "ALL")
        for log in resource.get("FlowLogs") or []
    )
