from caracal_event_types import FAILED_LOGIN, SUCCESSFUL_LOGIN


def get_event_type(event):
    result = event.get("result")
    if result == "success":
        return SUCCESSFUL_LOGIN
    if result in ("denied", "failure", "fraud"):
        return FAILED_LOGIN
    return None
