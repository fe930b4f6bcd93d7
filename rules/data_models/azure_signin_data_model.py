from caracal_event_types import FAILED_LOGIN, SUCCESSFUL_LOGIN


def get_event_type(event):
    """Entra ID sign-ins: error code 0 is a success, anything else a failure."""
    code = event.deep_get("properties", "status", "errorCode")
    if code is None:
        return None
    return SUCCESSFUL_LOGIN if str(code) == "0" else FAILED_LOGIN
