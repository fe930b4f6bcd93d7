def policy(resource):
    return resource.get("KeyState") != "PendingDeletion"
