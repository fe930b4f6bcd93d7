def policy(resource):
    permissions = resource.get("CreateVolumePermissions") or []
    return not any(p.get("Group") == "all" for p in permissions)
