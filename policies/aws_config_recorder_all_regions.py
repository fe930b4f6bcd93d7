def policy(resource):
    # RecorderDetails is caracal's: Panther's Recorders holds only resource ids.
    recording = {
        r.get("Region")
        for r in resource.get("RecorderDetails") or []
        if (r.get("Status") or {}).get("Recording")
        and (r.get("RecordingGroup") or {}).get("AllSupported")
    }
    return set(resource.get("Regions") or []) <= recording


def alert_context(resource):
    recording = {r.get("Region") for r in resource.get("RecorderDetails") or []}
    return {"regions_without_recorder": sorted(set(resource.get("Regions") or []) - recording)}
