def _classic(selector):
    return selector.get("IncludeManagementEvents") is True and selector.get("ReadWriteType") == "All"


def _advanced(selector):
    fields = {f.get("Field"): f for f in selector.get("FieldSelectors") or []}
    category = fields.get("eventCategory") or {}
    if "Management" not in (category.get("Equals") or []):
        return False
    # A readOnly filter keeps only reads or only writes.
    return "readOnly" not in fields


def policy(resource):
    return any(_classic(s) for s in resource.get("GlobalEventSelectors") or []) or any(
        _advanced(s) for s in resource.get("GlobalAdvancedEventSelectors") or []
    )
