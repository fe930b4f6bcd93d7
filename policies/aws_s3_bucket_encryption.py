def policy(resource):
    rules = resource.get("EncryptionRules") or []
    return any(
        (rule.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm")
        for rule in rules
    )
