# Buckets that serve public content on purpose (websites, public datasets).
PUBLIC_BUCKETS = set()


def _anonymous(event):
    # Raw log lines write "-" for an unauthenticated requester; the parser drops "-" fields.
    return event.get("requester") in (None, "", "-")


def rule(event):
    if event.get("operation") != "REST.GET.OBJECT" or event.get("httpstatus") != 200:
        return False
    if event.get("bucket") in PUBLIC_BUCKETS:
        return False
    return _anonymous(event)


def title(event):
    return f"Anonymous read of s3://{event.get('bucket')}/{event.get('key', '')} from {event.get('remoteip')}"


def dedup(event):
    return str(event.get("bucket"))


def alert_context(event):
    return {
        "bucket": event.get("bucket"),
        "key": event.get("key"),
        "remote_ip": event.get("remoteip"),
        "user_agent": event.get("useragent"),
        "bytes_sent": event.get("bytessent"),
        "request_id": event.get("requestid"),
    }
