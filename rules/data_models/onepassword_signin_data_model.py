from caracal_event_types import FAILED_LOGIN, SUCCESSFUL_LOGIN


def get_event_type(event):
    category = event.get("category")
    if category == "success":
        return SUCCESSFUL_LOGIN
    if category in ("credentials_failed", "mfa_failed", "modern_version_failed"):
        return FAILED_LOGIN
    return None
