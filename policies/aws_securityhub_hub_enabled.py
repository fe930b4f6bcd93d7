def policy(resource):
    return resource.get("Enabled") is True or bool(resource.get("HubArn"))
