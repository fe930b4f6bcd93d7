def policy(resource):
    if resource.get("ParentId") or resource.get("RootId"):
        return True
    return resource.get("EnableTerminationProtection") is True
