def policy(resource):
    if resource.get("Scope") != "AWS" or resource.get("Name") != "AWSSupportAccess":
        return True
    entities = resource.get("Entities") or {}
    return any(entities.get(k) for k in ("PolicyUsers", "PolicyGroups", "PolicyRoles"))
