def policy(resource):
    # EKS envelope-encrypts only secrets; a snapshot without Resources still names the key.
    return any(
        ((c.get("Provider") or {}).get("KeyArn")) and "secrets" in (c.get("Resources") or ["secrets"])
        for c in resource.get("EncryptionConfig") or []
    )
