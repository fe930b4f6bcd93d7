def policy(resource):
    if (resource.get("State") or {}).get("Name") in ("terminated", "shutting-down"):
        return True
    options = resource.get("MetadataOptions") or {}
    return options.get("HttpTokens") == "required" or options.get("HttpEndpoint") == "disabled"
