from caracal_aws_helpers import actor, api_call, change_context

CHANGES = {
    "PutBucketAcl",
    "PutBucketPolicy",
    "PutBucketCors",
    "PutBucketLifecycle",
    "PutBucketReplication",
    "DeleteBucketPolicy",
    "DeleteBucketCors",
    "DeleteBucketLifecycle",
    "DeleteBucketReplication",
}


def rule(event):
    return api_call(event, "s3.amazonaws.com", CHANGES)


def _bucket(event):
    return event.deep_get("requestParameters", "bucketName", default="<unknown bucket>")


def title(event):
    return f"{actor(event)} ran {event.get('eventName')} on bucket {_bucket(event)}"


def dedup(event):
    return f"{_bucket(event)}:{event.get('eventName')}"


def severity(event):
    # A policy or ACL change can expose the bucket; CORS/lifecycle/replication less so.
    return "MEDIUM" if event.get("eventName") in ("PutBucketPolicy", "PutBucketAcl", "DeleteBucketPolicy") else "DEFAULT"


def alert_context(event):
    context = change_context(event)
    context["bucket"] = _bucket(event)
    return context
