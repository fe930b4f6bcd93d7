from caracal_aws_helpers import api_call, change_context, lookup_result
from caracal_posture import compliance_status

CHANGES = {"PutBucketPolicy", "PutBucketAcl", "DeleteBucketPolicy", "DeleteBucketPublicAccessBlock"}
# The bundled policies whose failure means the bucket is (or may be made) public.
PUBLIC_POLICIES = {"AWS.S3.Bucket.NoPublicACL", "AWS.S3.Bucket.PublicAccessBlock"}


def public_findings(event):
    bucket = event.deep_get("requestParameters", "bucketName")
    if not bucket:
        return []
    verdicts = lookup_result(compliance_status(f"arn:aws:s3:::{bucket}"))
    return sorted(p for p, status in verdicts.items() if status == "FAIL" and p in PUBLIC_POLICIES)


def rule(event):
    if not api_call(event, "s3.amazonaws.com", CHANGES):
        return False
    return bool(public_findings(event))


def title(event):
    bucket = event.deep_get("requestParameters", "bucketName", default="<unknown>")
    return f"{event.get('eventName')} on bucket {bucket}, which is public"


def dedup(event):
    return str(event.deep_get("requestParameters", "bucketName"))


def alert_context(event):
    context = change_context(event)
    context["public_findings"] = public_findings(event)
    return context
