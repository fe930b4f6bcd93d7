from caracal_aws_helpers import aws_context


def rule(event):
    return (
        event.get("eventName") == "ConsoleLogin"
        and event.deep_get("userIdentity", "type") == "Root"
        and event.deep_get("responseElements", "ConsoleLogin") == "Success"
    )


def title(event):
    return f"Root console login to account {event.get('recipientAccountId')} from {event.udm('source_ip')}"


def dedup(event):
    return f"root-login-{event.get('recipientAccountId')}"


def alert_context(event):
    return aws_context(event)
