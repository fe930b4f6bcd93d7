def policy(resource):
    for group in resource.get("SecurityGroups") or []:
        if group.get("GroupName") == "default":
            return not group.get("IpPermissions") and not group.get("IpPermissionsEgress")
    return True
