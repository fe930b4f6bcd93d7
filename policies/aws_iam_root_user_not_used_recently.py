from caracal_policy_helpers import now_iso, parse_time


def days_since(text):
    then = parse_time(text)
    return None if then is None else (parse_time(now_iso()) - then).days

RECENT_DAYS = 30


def policy(resource):
    report = resource.get("CredentialReport") or {}
    for field in ("PasswordLastUsed", "AccessKey1LastUsedDate", "AccessKey2LastUsedDate"):
        age = days_since(report.get(field))
        if age is not None and age < RECENT_DAYS:
            return False
    return True
