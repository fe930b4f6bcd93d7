from caracal_event_types import ADMIN_ROLE_ASSIGNED, USER_ACCOUNT_CREATED, USER_ACCOUNT_DELETED

OPERATIONS = {
    "Add member to role": ADMIN_ROLE_ASSIGNED,
    "Add eligible member to role": ADMIN_ROLE_ASSIGNED,
    "Add user": USER_ACCOUNT_CREATED,
    "Delete user": USER_ACCOUNT_DELETED,
}


def get_event_type(event):
    return OPERATIONS.get(event.get("operationName"))
