from caracal_aws_helpers import actor, api_call, aws_context


def rule(event):
    return api_call(event, "ec2.amazonaws.com", {"DisableEbsEncryptionByDefault"})


def title(event):
    return (
        f"{actor(event)} disabled EBS encryption by default in "
        f"{event.get('recipientAccountId')}/{event.get('awsRegion')}"
    )


def dedup(event):
    return f"{event.get('recipientAccountId')}:{event.get('awsRegion')}"


def alert_context(event):
    return aws_context(event)
