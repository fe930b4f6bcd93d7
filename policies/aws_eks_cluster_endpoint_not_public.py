def policy(resource):
    vpc = resource.get("ResourcesVpcConfig") or {}
    if vpc.get("EndpointPublicAccess") is False:
        return True
    # AWS reports 0.0.0.0/0 when no CIDRs were named; an absent list counts as open.
    cidrs = vpc.get("PublicAccessCidrs") or ["0.0.0.0/0"]
    return "0.0.0.0/0" not in cidrs
