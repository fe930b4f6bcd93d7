def get_actor_user(event):
    """The human-meaningful name of the caller: user name, role session or root."""
    identity = event.get("userIdentity") or {}
    kind = identity.get("type")
    if kind == "Root":
        return "root"
    if kind == "AssumedRole":
        arn = identity.get("arn") or ""
        return arn.split("/", 1)[1] if "/" in arn else arn
    return identity.get("userName") or identity.get("arn")
