def policy(resource):
    return (resource.get("BackupRetentionPeriod") or 0) >= 1
