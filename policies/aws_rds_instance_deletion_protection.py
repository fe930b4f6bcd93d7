def policy(resource):
    return resource.get("DeletionProtection") is True
