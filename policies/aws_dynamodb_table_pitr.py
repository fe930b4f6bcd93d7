def policy(resource):
    backups = resource.get("ContinuousBackupsDescription") or {}
    pitr = backups.get("PointInTimeRecoveryDescription") or {}
    return pitr.get("PointInTimeRecoveryStatus") == "ENABLED"
