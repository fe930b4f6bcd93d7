from caracal_policy_helpers import now_iso, parse_time


def days_since(text):
    then = parse_time(text)
    return None if then is None else (parse_time(now_iso()) - then).days

MAX_DAYS = 45


def policy(resource):
    report = resource.get("CredentialReport") or {}
    for n in (1, 2):
        if report.get(f"AccessKey{n}Active") is not True:
            continue
        for field in (f"AccessKey{n}LastUsedDate", f"AccessKey{n}LastRotated"):
            age = days_since(report.get(field))
            if age is not None:
                if age > MAX_DAYS:
                    return False
                break
    return True
