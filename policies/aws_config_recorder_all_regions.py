def policy(resource):
    recording = {
        r.get("Region")
        for r in resource.get("Recorders") or []
        if (r.get("Status") or {}).get("Recording")
        and (r.get("RecordingGroup") or {}).get("AllSupported")
    }
    return set(resource.get("Regions") or []) <= recording


def alert_context(resource):
    recording = {r.get("Region") for r in resource.get("Recorders") or []}
    return {"regions_without_recorder": sorted(set(resource.get("Regions") or []) - recording)}
