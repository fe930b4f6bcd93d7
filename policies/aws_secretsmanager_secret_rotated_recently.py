from caracal_policy_helpers import now_iso, parse_time

MAX_DAYS = 90


def policy(resource):
    if resource.get("RotationEnabled") is not True:
        return True
    last = parse_time(resource.get("LastRotatedDate") or resource.get("CreatedDate"))
    if last is None:
        return False
    return (parse_time(now_iso()) - last).days <= MAX_DAYS
