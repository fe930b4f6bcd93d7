from caracal_aws_helpers import api_call, aws_context


def rule(event):
    if not api_call(event, "iam.amazonaws.com", {"CreateAccessKey"}):
        return False
    # Root creating a key for an IAM user names that user; a key for root itself names none.
    return event.deep_get("userIdentity", "type") == "Root" and not event.deep_get("requestParameters", "userName")


def title(event):
    return f"An access key was created for the root user of account {event.get('recipientAccountId')}"


def dedup(event):
    return f"root-access-key-{event.get('recipientAccountId')}"


def alert_context(event):
    context = aws_context(event)
    context["access_key_id"] = event.deep_get("responseElements", "accessKey", "accessKeyId")
    return context
