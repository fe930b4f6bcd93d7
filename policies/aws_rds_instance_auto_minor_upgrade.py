def policy(resource):
    return resource.get("AutoMinorVersionUpgrade") is True
