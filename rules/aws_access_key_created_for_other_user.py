from caracal_aws_helpers import aws_context, succeeded


def rule(event):
    if event.get("eventName") != "CreateAccessKey" or not succeeded(event):
        return False
    owner = event.deep_get("responseElements", "accessKey", "userName")
    caller = event.deep_get("userIdentity", "userName")
    return owner is not None and caller is not None and owner != caller


def title(event):
    owner = event.deep_get("responseElements", "accessKey", "userName")
    return f"{event.udm('actor_user')} created an access key for {owner}"


def dedup(event):
    return f"{event.deep_get('responseElements', 'accessKey', 'userName')}"


def alert_context(event):
    return aws_context(event)
