from caracal_s3_data_events import logs_s3_data_events


def policy(resource):
    return logs_s3_data_events(resource, "WriteOnly")
