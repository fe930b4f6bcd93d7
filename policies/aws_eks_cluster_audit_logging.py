def policy(resource):
    setups = (resource.get("Logging") or {}).get("ClusterLogging") or []
    return any(s.get("Enabled") is True and "audit" in (s.get("Types") or []) for s in setups)
