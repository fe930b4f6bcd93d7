from caracal_aws_helpers import aws_context

# Sign-in is covered by AWS.CloudTrail.RootConsoleLogin; these are noise from the console.
SKIPPED = {"ConsoleLogin"}


def rule(event):
    if event.deep_get("userIdentity", "type") != "Root":
        return False
    # Calls AWS services make on the account's behalf carry invokedBy; they are not a person.
    if event.deep_get("userIdentity", "invokedBy"):
        return False
    if event.get("eventType") == "AwsServiceEvent":
        return False
    return event.get("eventName") not in SKIPPED


def title(event):
    return (
        f"Root user called {event.get('eventName')} in account "
        f"{event.get('recipientAccountId')} from {event.udm('source_ip')}"
    )


def dedup(event):
    return f"root-activity-{event.get('recipientAccountId')}-{event.udm('source_ip')}"


def alert_context(event):
    context = aws_context(event)
    context["access_key_id"] = event.deep_get("userIdentity", "accessKeyId")
    context["event_source"] = event.get("eventSource")
    return context
