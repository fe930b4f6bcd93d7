def policy(resource):
    return resource.get("PubliclyAccessible") is not True
