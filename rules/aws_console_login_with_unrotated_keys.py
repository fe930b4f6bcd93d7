from caracal_aws_helpers import aws_context
from caracal_posture import compliance_status

ROTATION_POLICY = "AWS.IAM.User.AccessKeyRotated"


def rule(event):
    if event.get("eventName") != "ConsoleLogin":
        return False
    if event.deep_get("responseElements", "ConsoleLogin") != "Success":
        return False
    if event.deep_get("userIdentity", "type") != "IAMUser":
        return False
    arn = event.deep_get("userIdentity", "arn")
    return bool(arn) and compliance_status(arn, ROTATION_POLICY) == "FAIL"


def title(event):
    user = event.deep_get("userIdentity", "userName", default="<unknown>")
    return f"Console login by {user}, whose access keys are not rotated"


def dedup(event):
    return str(event.deep_get("userIdentity", "arn"))


def alert_context(event):
    context = aws_context(event)
    context["failing_policy"] = ROTATION_POLICY
    return context
