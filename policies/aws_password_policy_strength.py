MIN_LENGTH = 14
REUSE_PREVENTION = 24


def policy(resource):
    if not resource.get("AnyExist"):
        return False
    return (
        (resource.get("MinimumPasswordLength") or 0) >= MIN_LENGTH
        and (resource.get("PasswordReusePrevention") or 0) >= REUSE_PREVENTION
    )
