import json
from datetime import datetime, timedelta

from panther_aws_helpers import resource_lookup

AWS_TIME = "%Y-%m-%dT%H:%M:%SZ"


def policy(resource):
    # Credential report arithmetic, as public policies write it.
    rotated = resource.get("CredentialReport", {}).get("AccessKey1LastRotated")
    if rotated and datetime.strptime(rotated, AWS_TIME) < datetime.now() - timedelta(days=90):
        return False
    bucket = json.loads(resource_lookup("arn:aws:s3:::logs"))
    return bucket.get("Versioning") == "Enabled"
