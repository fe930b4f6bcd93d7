def policy(resource):
    if resource.get("Explode"):
        raise KeyError("Grants")
    return resource.get("Encrypted") is True
