def policy(resource):
    if resource.get("Scope") != "AWS" or resource.get("Name") != "AWSCloudShellFullAccess":
        return True
    entities = resource.get("Entities") or {}
    return not any(entities.get(k) for k in ("PolicyUsers", "PolicyGroups", "PolicyRoles"))
