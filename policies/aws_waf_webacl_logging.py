def policy(resource):
    config = resource.get("LoggingConfiguration") or {}
    return bool(config.get("LogDestinationConfigs"))
