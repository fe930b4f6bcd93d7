def policy(resource):
    return resource.get("RotationEnabled") is True
