def rule(event):
    infos = event.deep_walk("protoPayload", "authorizationInfo", default=[])
    # A path ending on a list gives the list, even of one element.
    if not isinstance(infos, list):
        return False
    permissions = event.deep_walk("protoPayload", "authorizationInfo", "permission", default=[])
    if isinstance(permissions, str):
        permissions = [permissions]
    return "iam.roles.create" in permissions


def title(event):
    first = event.deep_walk("protoPayload", "authorizationInfo", "permission", return_val="first")
    last = event.deep_walk("protoPayload", "authorizationInfo", "permission", return_val="last")
    return f"{first} .. {last}"


def dedup(event):
    return event.deep_get("protoPayload", "authenticationInfo", "principalEmail", default="<none>")
