from caracal_policy_helpers import now_iso, parse_time

MAX_AGE_DAYS = 90


def policy(resource):
    report = resource.get("CredentialReport") or {}
    for n in (1, 2):
        if report.get(f"AccessKey{n}Active"):
            rotated = parse_time(report.get(f"AccessKey{n}LastRotated"))
            if rotated is not None and (parse_time(now_iso()) - rotated).days > MAX_AGE_DAYS:
                return False
    return True
