from compat_helpers import context


def rule(event):
    # By keyword and by position; a key in another case than the log's.
    if event.get("errorCode", default=None) is not None:
        return False
    source = event.get("eventsource", "")
    params = event.get("requestParameters", default=None)
    nested = params.get("bucketname", default="") if params else ""
    return source == "s3.amazonaws.com" and nested.startswith("prod-")


def title(event):
    return f"{event.get('EVENTNAME', default='?')} on {event.deep_get('requestParameters', 'BucketName')}"


def alert_context(event):
    return context(event)
