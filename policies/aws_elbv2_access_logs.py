def _attributes(resource):
    attributes = resource.get("Attributes") or {}
    if isinstance(attributes, list):
        return {a.get("Key"): a.get("Value") for a in attributes}
    return attributes


def policy(resource):
    return str(_attributes(resource).get("access_logs.s3.enabled")).lower() == "true"
