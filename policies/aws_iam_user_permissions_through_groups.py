def policy(resource):
    return not resource.get("InlinePolicies") and not resource.get("ManagedPolicyNames")
