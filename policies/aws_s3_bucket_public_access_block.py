SETTINGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


def policy(resource):
    block = resource.get("PublicAccessBlockConfiguration") or {}
    return all(block.get(setting) is True for setting in SETTINGS)


def alert_context(resource):
    block = resource.get("PublicAccessBlockConfiguration") or {}
    return {"missing": [s for s in SETTINGS if block.get(s) is not True]}
