def policy(resource):
    return resource.get("Versioning") == "Enabled"
