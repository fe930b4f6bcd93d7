def policy(resource):
    return (resource.get("LoggingStatus") or {}).get("LoggingEnabled") is True
