from caracal_event_types import FAILED_LOGIN, SUCCESSFUL_LOGIN

OPERATIONS = {"UserLoggedIn": SUCCESSFUL_LOGIN, "UserLoginFailed": FAILED_LOGIN}


def get_event_type(event):
    return OPERATIONS.get(event.get("Operation"))
