from caracal_aws_helpers import aws_context

DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Client.UnauthorizedOperation"}


def rule(event):
    return event.get("errorCode") in DENIED


def title(event):
    return f"{event.udm('actor_user')} was denied {event.get('eventName')}"


def dedup(event):
    return str(event.udm("actor_user"))


def alert_context(event):
    return aws_context(event)
