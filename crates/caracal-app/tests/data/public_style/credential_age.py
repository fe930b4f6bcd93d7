from datetime import datetime, timedelta

AWS_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MAX_AGE = timedelta(days=90)


def policy(resource):
    report = resource.get("CredentialReport") or {}
    created = report.get("UserCreationTime")
    if created and datetime.strptime(created, AWS_TIMESTAMP_FORMAT) > datetime.now():
        return False
    for key in ("AccessKey1", "AccessKey2"):
        rotated = report.get(key + "LastRotated")
        if report.get(key + "Active") and rotated:
            if datetime.now() - datetime.strptime(rotated, AWS_TIMESTAMP_FORMAT) > MAX_AGE:
                return False
    return True
