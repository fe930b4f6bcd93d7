def policy(resource):
    return any("secrets" in (c.get("Resources") or []) for c in resource.get("EncryptionConfig") or [])
