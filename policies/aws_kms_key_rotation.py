def policy(resource):
    if resource.get("KeyManager") != "CUSTOMER" or resource.get("KeyState") != "Enabled":
        return True
    # Null for AWS-managed and asymmetric keys, which cannot rotate.
    return resource.get("KeyRotationEnabled") is not False
