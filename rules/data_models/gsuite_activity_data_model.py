from caracal_event_types import ADMIN_ROLE_ASSIGNED, FAILED_LOGIN, MFA_DISABLED, SUCCESSFUL_LOGIN, SUCCESSFUL_LOGOUT

NAMES = {
    "login_failure": FAILED_LOGIN,
    "login_success": SUCCESSFUL_LOGIN,
    "logout": SUCCESSFUL_LOGOUT,
    "2sv_disable": MFA_DISABLED,
    "ASSIGN_ROLE": ADMIN_ROLE_ASSIGNED,
}


def get_event_type(event):
    """The first of the activity's events with a standard meaning."""
    for item in event.get("events") or []:
        found = NAMES.get((item or {}).get("name"))
        if found:
            return found
    return None
