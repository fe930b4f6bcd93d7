from caracal_policy_helpers import now_iso, parse_time

MIN_DAYS = 30


def policy(resource):
    if resource.get("Status") != "ISSUED":
        return True
    not_after = parse_time(resource.get("NotAfter"))
    if not_after is None:
        return True
    return (not_after - parse_time(now_iso())).days >= MIN_DAYS
