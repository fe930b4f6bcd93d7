DELETES = {"REST.DELETE.OBJECT", "BATCH.DELETE.OBJECT"}


def rule(event):
    # S3.EXPIRE.OBJECT (lifecycle) is a different operation and is not counted.
    return event.get("operation") in DELETES and event.get("httpstatus") in (200, 204)


def _requester(event):
    return event.get("requester") or "anonymous"


def title(event):
    return f"{_requester(event)} is deleting many objects in s3://{event.get('bucket')}"


def dedup(event):
    return f"{_requester(event)}:{event.get('bucket')}"


def alert_context(event):
    return {
        "bucket": event.get("bucket"),
        "requester": _requester(event),
        "remote_ip": event.get("remoteip"),
        "user_agent": event.get("useragent"),
        "last_key": event.get("key"),
    }
