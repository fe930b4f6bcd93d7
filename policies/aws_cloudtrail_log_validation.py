def policy(resource):
    return resource.get("LogFileValidationEnabled") is True and resource.get("IsMultiRegionTrail") is True
