def policy(resource):
    return resource.get("Encrypted") is True
