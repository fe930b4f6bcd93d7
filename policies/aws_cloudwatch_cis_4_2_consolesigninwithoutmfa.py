from caracal_cis_monitoring import monitored


def policy(resource):
    return monitored(resource, "4.2")
