def policy(resource):
    managed = str(resource.get("SqsManagedSseEnabled")).lower() == "true"
    return managed or bool(resource.get("KmsMasterKeyId"))
