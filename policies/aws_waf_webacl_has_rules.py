def policy(resource):
    return bool(resource.get("Rules"))
