from caracal_event_types import ADMIN_ROLE_ASSIGNED, FAILED_LOGIN, SUCCESSFUL_LOGIN

TYPES = {"FAILED_LOGIN": FAILED_LOGIN, "LOGIN": SUCCESSFUL_LOGIN, "ADMIN_LOGIN": SUCCESSFUL_LOGIN}


def get_event_type(event):
    kind = event.get("event_type")
    if kind == "CHANGE_ADMIN_ROLE":
        return ADMIN_ROLE_ASSIGNED
    return TYPES.get(kind)
