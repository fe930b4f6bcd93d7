from caracal_policy_helpers import permission_opens_port


def policy(resource):
    return not any(permission_opens_port(p, 445) for p in resource.get("IpPermissions") or [])
