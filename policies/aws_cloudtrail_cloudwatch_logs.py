from caracal_policy_helpers import is_home_region_copy


def policy(resource):
    if is_home_region_copy(resource):
        return True
    return bool(resource.get("CloudWatchLogsLogGroupArn"))
