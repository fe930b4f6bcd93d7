def policy(resource):
    return resource.get("StorageEncrypted") is True
