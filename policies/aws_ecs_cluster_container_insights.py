def policy(resource):
    for setting in resource.get("Settings") or []:
        if setting.get("Name") == "containerInsights":
            return setting.get("Value") in ("enabled", "enhanced")
    return False
