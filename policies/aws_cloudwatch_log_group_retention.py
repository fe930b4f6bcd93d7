MINIMUM_DAYS = 365


def policy(resource):
    days = resource.get("RetentionInDays")
    return days is None or days >= MINIMUM_DAYS
