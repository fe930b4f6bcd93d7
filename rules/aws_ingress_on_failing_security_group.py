from caracal_aws_helpers import api_call, change_context, lookup_result
from caracal_posture import compliance_status


def group_arn(event):
    group = event.deep_get("requestParameters", "groupId")
    if not group:
        return None
    region = event.get("awsRegion")
    account = event.get("recipientAccountId")
    return f"arn:aws:ec2:{region}:{account}:security-group/{group}"


def failing_policies(event):
    arn = group_arn(event)
    if arn is None:
        return []
    verdicts = lookup_result(compliance_status(arn))
    return sorted(policy for policy, status in verdicts.items() if status == "FAIL")


def rule(event):
    if not api_call(event, "ec2.amazonaws.com", {"AuthorizeSecurityGroupIngress"}):
        return False
    return bool(failing_policies(event))


def title(event):
    group = event.deep_get("requestParameters", "groupId", default="<unknown>")
    return f"Ingress added to security group {group}, which already fails policies"


def dedup(event):
    return str(event.deep_get("requestParameters", "groupId"))


def alert_context(event):
    context = change_context(event)
    context["failing_policies"] = failing_policies(event)
    context["resource_id"] = group_arn(event)
    return context
