from caracal_policy_helpers import policy_is_public


def policy(resource):
    return not policy_is_public(resource.get("Policy"))
