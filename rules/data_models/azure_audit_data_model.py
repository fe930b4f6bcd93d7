from caracal_event_types import (
    ADMIN_ROLE_ASSIGNED,
    FAILED_LOGIN,
    SUCCESSFUL_LOGIN,
    USER_ACCOUNT_CREATED,
    USER_ACCOUNT_DELETED,
)

OPERATIONS = {
    "Add member to role": ADMIN_ROLE_ASSIGNED,
    "Add eligible member to role": ADMIN_ROLE_ASSIGNED,
    "Add user": USER_ACCOUNT_CREATED,
    "Delete user": USER_ACCOUNT_DELETED,
}


def get_actor_user(event):
    """Sign-ins name the user at the top of `properties`; audit records under `initiatedBy`."""
    return event.deep_get("properties", "userPrincipalName") or event.deep_get(
        "properties", "initiatedBy", "user", "userPrincipalName"
    )


def get_event_type(event):
    """Sign-ins carry a status code (0 is a success); audit records name their operation."""
    code = event.deep_get("properties", "status", "errorCode")
    if code is not None:
        return SUCCESSFUL_LOGIN if str(code) == "0" else FAILED_LOGIN
    return OPERATIONS.get(event.get("operationName"))
