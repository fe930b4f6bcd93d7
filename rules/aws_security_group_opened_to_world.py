from caracal_aws_helpers import WORLD_CIDRS, actor, as_list, aws_context, succeeded


def rule(event):
    if event.get("eventName") != "AuthorizeSecurityGroupIngress" or not succeeded(event):
        return False
    cidrs = event.deep_walk("requestParameters", "ipPermissions", "items", "ipRanges", "items", "cidrIp", default=[])
    cidrs6 = event.deep_walk("requestParameters", "ipPermissions", "items", "ipv6Ranges", "items", "cidrIpv6", default=[])
    found = set(as_list(cidrs)) | set(as_list(cidrs6))
    return bool(found & WORLD_CIDRS)


def title(event):
    group = event.deep_get("requestParameters", "groupId", default="<unknown>")
    return f"{actor(event)} opened security group {group} to the internet"


def dedup(event):
    return str(event.deep_get("requestParameters", "groupId"))


def alert_context(event):
    return aws_context(event)
