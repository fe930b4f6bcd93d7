from caracal_okta_helpers import event_type, okta_actor, okta_context, outcome, target_users

RESETS = {"user.mfa.factor.deactivate", "user.mfa.factor.reset_all", "user.mfa.factor.suspend"}


def rule(event):
    return event_type(event) in RESETS and outcome(event) == "SUCCESS"


def _user(event):
    users = target_users(event)
    return str(users[0]) if users else okta_actor(event)


def title(event):
    action = "reset all MFA factors of" if event_type(event) == "user.mfa.factor.reset_all" else "removed an MFA factor of"
    return f"{okta_actor(event)} {action} {_user(event)}"


def dedup(event):
    return _user(event)


def severity(event):
    # Someone else (an admin or the help desk) resetting a user's MFA is the social-engineering
    # path; a user removing their own old factor is routine.
    return "MEDIUM" if _user(event) != okta_actor(event) else "LOW"


def alert_context(event):
    context = okta_context(event)
    context["user"] = _user(event)
    return context
