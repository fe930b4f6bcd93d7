from caracal_policy_helpers import now_iso, parse_time


def days_since(text):
    then = parse_time(text)
    return None if then is None else (parse_time(now_iso()) - then).days

MAX_DAYS = 45


def policy(resource):
    report = resource.get("CredentialReport") or {}
    if report.get("PasswordEnabled") is not True:
        return True
    for field in ("PasswordLastUsed", "PasswordLastChanged", "UserCreationTime"):
        age = days_since(report.get(field))
        if age is not None:
            return age <= MAX_DAYS
    return True
