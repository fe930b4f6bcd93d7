def policy(resource):
    return resource.get("Status") == "ACTIVE"
