from caracal_event_types import FAILED_LOGIN, SUCCESSFUL_LOGIN


def get_event_type(event):
    status = event.get("LOGIN_STATUS")
    if status is None:
        return None
    return SUCCESSFUL_LOGIN if status == "LOGIN_NO_ERROR" else FAILED_LOGIN
