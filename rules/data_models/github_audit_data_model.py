from caracal_event_types import ADMIN_ROLE_ASSIGNED, MFA_DISABLED, USER_ACCOUNT_CREATED, USER_ACCOUNT_DELETED

ACTIONS = {
    "org.disable_two_factor_requirement": MFA_DISABLED,
    "business.disable_two_factor_requirement": MFA_DISABLED,
    "business.add_admin": ADMIN_ROLE_ASSIGNED,
    "org.add_member": USER_ACCOUNT_CREATED,
    "org.remove_member": USER_ACCOUNT_DELETED,
}


def get_event_type(event):
    action = event.get("action")
    if action == "org.update_member" and event.get("permission") == "admin":
        return ADMIN_ROLE_ASSIGNED
    return ACTIONS.get(action)
