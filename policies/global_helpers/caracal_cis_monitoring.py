"""CIS AWS Foundations section 4 (monitoring): a metric filter on the CloudTrail log group
whose pattern matches the prescribed events, an alarm on its metric, and an SNS topic
with a confirmed subscription among the alarm's actions. Importable as
caracal_cis_monitoring.

Reads `AWS.CloudWatch.MetricFilters` snapshots: `MetricFilters[]` (CloudWatch Logs'
DescribeMetricFilters: filterName, filterPattern, logGroupName, metricTransformations
[{metricName, metricNamespace}]), `MetricAlarms[]` (DescribeAlarms: AlarmName,
MetricName, Namespace, AlarmActions[]), `Subscriptions[]` (SNS: TopicArn,
SubscriptionArn) and, when present, `TrailLogGroups[]` (the log groups multi-region
trails deliver to). Keys are accepted in camelCase or PascalCase."""
import re

REQUIRED = {
    "4.1": ['$.errorCode="*UnauthorizedOperation"', '$.errorCode="AccessDenied*"'],
    "4.2": ['$.eventName="ConsoleLogin"', '$.additionalEventData.MFAUsed!="Yes"'],
    "4.3": ['$.userIdentity.type="Root"', "$.userIdentity.invokedByNOTEXISTS", '$.eventType!="AwsServiceEvent"'],
    "4.6": ['$.eventName="ConsoleLogin"', '$.errorMessage="Failed authentication"'],
    "4.7": ['$.eventSource="kms.amazonaws.com"'],
    "4.8": ['$.eventSource="s3.amazonaws.com"'],
    "4.9": ['$.eventSource="config.amazonaws.com"'],
    "4.15": ['$.eventSource="organizations.amazonaws.com"'],
}
EVENT_NAMES = {
    "4.4": ["DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy",
            "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
            "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy",
            "AttachGroupPolicy", "DetachGroupPolicy"],
    "4.5": ["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"],
    "4.7": ["DisableKey", "ScheduleKeyDeletion"],
    "4.8": ["PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication",
            "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication"],
    "4.9": ["StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
            "PutConfigurationRecorder"],
    "4.10": ["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
             "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup"],
    "4.11": ["CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
             "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation"],
    "4.12": ["CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
             "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway"],
    "4.13": ["CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation",
             "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable"],
    "4.14": ["CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
             "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection"],
    "4.15": ["AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit", "CreatePolicy",
             "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy",
             "DetachPolicy", "DisablePolicyType", "EnablePolicyType", "InviteAccountToOrganization",
             "LeaveOrganization", "MoveAccount", "RemoveAccountFromOrganization", "UpdatePolicy",
             "UpdateOrganizationalUnit"],
}


def _get(item, name):
    """item[name] in camelCase or PascalCase."""
    if not isinstance(item, dict):
        return None
    for key in (name, name[0].upper() + name[1:], name[0].lower() + name[1:]):
        if key in item:
            return item[key]
    return None


def _normalize(pattern):
    return re.sub(r'[\s"]', "", str(pattern or ""))


def pattern_matches(control, pattern):
    """True when a filter pattern holds every clause CIS prescribes for `control`
    (whitespace and quotes ignored; event names matched whole)."""
    text = _normalize(pattern)
    if not text:
        return False
    for clause in REQUIRED.get(control, []):
        if _normalize(clause) not in text:
            return False
    for name in EVENT_NAMES.get(control, []):
        if not re.search(r"\$\.eventName=" + re.escape(name) + r"(?![A-Za-z0-9])", text):
            return False
    return True


def _confirmed_topics(resource):
    return {
        _get(s, "TopicArn")
        for s in resource.get("Subscriptions") or []
        if str(_get(s, "SubscriptionArn") or "").startswith("arn:")
    }


def monitored(resource, control):
    """True when `control`'s events raise an alarm someone receives."""
    trail_groups = resource.get("TrailLogGroups")
    if trail_groups is not None and not trail_groups:
        # No multi-region trail delivers to this region; its home region is judged.
        return True
    topics = _confirmed_topics(resource)
    alarms = resource.get("MetricAlarms") or []
    for f in resource.get("MetricFilters") or []:
        if trail_groups is not None and _get(f, "logGroupName") not in trail_groups:
            continue
        if not pattern_matches(control, _get(f, "filterPattern")):
            continue
        for t in _get(f, "metricTransformations") or []:
            metric, namespace = _get(t, "metricName"), _get(t, "metricNamespace")
            for alarm in alarms:
                if _get(alarm, "ActionsEnabled") is False:
                    continue
                if _get(alarm, "MetricName") == metric and _get(alarm, "Namespace") == namespace:
                    if any(a in topics for a in _get(alarm, "AlarmActions") or []):
                        return True
    return False
