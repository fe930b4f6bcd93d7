from caracal_aws_helpers import actor, as_list, aws_context, succeeded


def rule(event):
    if event.get("eventName") != "ModifyImageAttribute" or not succeeded(event):
        return False
    groups = event.deep_walk("requestParameters", "launchPermission", "add", "items", "group", default=[])
    return "all" in as_list(groups)


def title(event):
    image = event.deep_get("requestParameters", "imageId")
    return f"{actor(event)} made AMI {image} public"


def dedup(event):
    return str(event.deep_get("requestParameters", "imageId"))


def alert_context(event):
    return aws_context(event)
