from caracal_policy_helpers import days_since

MAX_AGE_DAYS = 90


def policy(resource):
    report = resource.get("CredentialReport") or {}
    for n in (1, 2):
        if report.get(f"AccessKey{n}Active"):
            age = days_since(report.get(f"AccessKey{n}LastRotated"))
            if age is not None and age > MAX_AGE_DAYS:
                return False
    return True
