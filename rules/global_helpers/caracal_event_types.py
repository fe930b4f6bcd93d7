"""Standard event types: what data models' `event_type` methods return, so one rule can
ask "was this a failed login?" of every identity provider's logs.

The values are the names the public packs' standard rules compare against."""

FAILED_LOGIN = "failed_login"
SUCCESSFUL_LOGIN = "successful_login"
SUCCESSFUL_LOGOUT = "successful_logout"
MFA_DISABLED = "mfa_disabled"
MFA_RESET = "mfa_reset"
ADMIN_ROLE_ASSIGNED = "admin_role_assigned"
USER_ACCOUNT_CREATED = "user_account_created"
USER_ACCOUNT_DELETED = "user_account_deleted"
USER_ROLE_MODIFIED = "user_role_modified"
