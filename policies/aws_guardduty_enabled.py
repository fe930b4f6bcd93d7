def _enabled_regions(resource):
    details = resource.get("DetectorDetails")
    if details is not None:
        return {d.get("Region") for d in details if d.get("Status") == "ENABLED"}
    # Panther's Meta: resource ids such as 123456789012:us-east-1:AWS.GuardDuty.Detector
    return {str(d).split(":")[1] for d in resource.get("Detectors") or [] if str(d).count(":") >= 2}


def policy(resource):
    enabled = _enabled_regions(resource)
    regions = resource.get("Regions")
    if regions is None:
        return bool(enabled)
    return set(regions) <= enabled


def alert_context(resource):
    return {"regions_without_detector": sorted(set(resource.get("Regions") or []) - _enabled_regions(resource))}
