from caracal_event_types import ADMIN_ROLE_ASSIGNED, FAILED_LOGIN, SUCCESSFUL_LOGIN, SUCCESSFUL_LOGOUT

ACTIONS = {
    "user_login": SUCCESSFUL_LOGIN,
    "user_login_failed": FAILED_LOGIN,
    "user_logout": SUCCESSFUL_LOGOUT,
    "role_change_to_admin": ADMIN_ROLE_ASSIGNED,
    "role_change_to_owner": ADMIN_ROLE_ASSIGNED,
}


def get_event_type(event):
    return ACTIONS.get(event.get("action"))
