SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def policy(resource):
    block = resource.get("PublicAccessBlockConfiguration") or {}
    return all(block.get(name) is True for name in SETTINGS)
