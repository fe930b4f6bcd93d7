from caracal_aws_helpers import aws_context, succeeded


def rule(event):
    return event.get("eventName") == "LeaveOrganization" and succeeded(event)


def title(event):
    return f"Account {event.get('recipientAccountId')} left its AWS organization"


def dedup(event):
    return str(event.get("recipientAccountId"))


def alert_context(event):
    return aws_context(event)
