from caracal_policy_helpers import as_list


def policy(resource):
    for snapshot in resource.get("SnapshotAttributes") or []:
        for attribute in snapshot.get("DBSnapshotAttributes") or []:
            if attribute.get("AttributeName") == "restore" and "all" in as_list(attribute.get("AttributeValues")):
                return False
    return True
