from caracal_policy_helpers import as_list


def policy(resource):
    return not any(
        a.get("AttributeName") == "restore" and "all" in as_list(a.get("AttributeValues"))
        for a in resource.get("DBSnapshotAttributes") or []
    )
