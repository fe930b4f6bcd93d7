from caracal_policy_helpers import PUBLIC_GROUP_URIS


def policy(resource):
    for grant in resource.get("Grants") or []:
        grantee = grant.get("Grantee") or {}
        if grantee.get("Type") == "Group" and grantee.get("URI") in PUBLIC_GROUP_URIS:
            return False
    return True


def title(resource):
    return f"S3 bucket {resource.get('Name')} grants access to everyone through its ACL"
