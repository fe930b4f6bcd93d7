from caracal_aws_helpers import actor, aws_context, succeeded

CALLS = {
    ("ec2.amazonaws.com", "EnableSerialConsoleAccess"),
    ("ec2-instance-connect.amazonaws.com", "SendSerialConsoleSSHPublicKey"),
}


def rule(event):
    return (event.get("eventSource"), event.get("eventName")) in CALLS and succeeded(event)


def title(event):
    if event.get("eventName") == "EnableSerialConsoleAccess":
        return f"{actor(event)} enabled EC2 serial console access in {event.get('awsRegion')}"
    instance = event.deep_get("requestParameters", "instanceId", default="<unknown instance>")
    return f"{actor(event)} pushed an SSH key to the serial console of {instance}"


def dedup(event):
    return f"{actor(event)}:{event.deep_get('requestParameters', 'instanceId', default=event.get('awsRegion'))}"


def alert_context(event):
    context = aws_context(event)
    context["instance_id"] = event.deep_get("requestParameters", "instanceId")
    return context
