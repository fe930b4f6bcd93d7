def policy(resource):
    return resource.get("Versioning") == "Enabled" and resource.get("MFADelete") == "Enabled"
