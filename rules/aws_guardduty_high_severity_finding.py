HIGH = 7.0
CRITICAL = 9.0


def _severity(event):
    try:
        return float(event.get("severity"))
    except (TypeError, ValueError):
        return 0.0


def rule(event):
    if event.deep_get("service", "archived") is True:
        return False
    return _severity(event) >= HIGH


def _resource(event):
    """The finding's main resource: instance, access key user, bucket, cluster..."""
    resource = event.get("resource") or {}
    return (
        event.deep_get("resource", "instanceDetails", "instanceId")
        or event.deep_get("resource", "accessKeyDetails", "userName")
        or event.deep_walk("resource", "s3BucketDetails", "name", return_val="first")
        or event.deep_get("resource", "eksClusterDetails", "name")
        or event.deep_get("resource", "ecsClusterDetails", "name")
        or event.deep_walk("resource", "rdsDbInstanceDetails", "dbInstanceIdentifier", return_val="first")
        or event.deep_get("resource", "lambdaDetails", "functionName")
        or resource.get("resourceType")
        or "<unknown resource>"
    )


def title(event):
    return f"GuardDuty {event.get('type')} on {_resource(event)}: {event.get('title', '')}".rstrip(": ")


def dedup(event):
    return f"{event.get('accountId')}:{event.get('type')}:{_resource(event)}"


def severity(event):
    return "CRITICAL" if _severity(event) >= CRITICAL else "HIGH"


def alert_context(event):
    return {
        "account": event.get("accountId"),
        "region": event.get("region"),
        "finding_type": event.get("type"),
        "finding_id": event.get("id"),
        "severity": event.get("severity"),
        "resource_type": event.deep_get("resource", "resourceType"),
        "resource": _resource(event),
        "action_type": event.deep_get("service", "action", "actionType"),
        "count": event.deep_get("service", "count"),
        "sample": event.deep_get("service", "additionalInfo", "sample", default=False),
    }
