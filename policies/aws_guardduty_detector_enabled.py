def policy(resource):
    return resource.get("Status") == "ENABLED"
