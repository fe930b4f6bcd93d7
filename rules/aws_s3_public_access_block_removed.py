from caracal_aws_helpers import actor, aws_context, succeeded

SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
DELETES = {"DeleteBucketPublicAccessBlock", "DeleteAccountPublicAccessBlock"}
PUTS = {"PutBucketPublicAccessBlock", "PutAccountPublicAccessBlock"}


def _disabled(event):
    """The block settings the request turns off."""
    config = event.deep_get("requestParameters", "PublicAccessBlockConfiguration") or {}
    return [name for name in SETTINGS if hasattr(config, "get") and config.get(name) is False]


def rule(event):
    if event.get("eventSource") not in ("s3.amazonaws.com", "s3-control.amazonaws.com") or not succeeded(event):
        return False
    name = event.get("eventName")
    if name in DELETES:
        return True
    return name in PUTS and bool(_disabled(event))


def _scope(event):
    bucket = event.deep_get("requestParameters", "bucketName")
    return f"bucket {bucket}" if bucket else f"account {event.get('recipientAccountId')}"


def title(event):
    return f"{actor(event)} removed S3 Block Public Access from {_scope(event)}"


def dedup(event):
    return _scope(event)


def severity(event):
    # The account-level block protects every bucket at once.
    return "HIGH" if "Account" in str(event.get("eventName")) else "DEFAULT"


def alert_context(event):
    context = aws_context(event)
    context["scope"] = _scope(event)
    context["settings_turned_off"] = list(SETTINGS) if event.get("eventName") in DELETES else _disabled(event)
    return context
