from caracal_policy_helpers import is_home_region_copy, lookup_json
from caracal_posture import resource_lookup


def policy(resource):
    if is_home_region_copy(resource) or not resource.get("S3BucketName"):
        return True
    bucket = lookup_json(resource_lookup(f"arn:aws:s3:::{resource['S3BucketName']}"))
    if bucket is None:
        return True
    return bool((bucket.get("LoggingPolicy") or {}).get("TargetBucket"))
