from caracal_okta_helpers import event_type, okta_actor, okta_context, outcome

ATTEMPTS = {"user.session.start", "user.authentication.auth_via_mfa", "user.authentication.verify"}


def rule(event):
    return event_type(event) in ATTEMPTS and outcome(event) == "FAILURE"


def title(event):
    return f"Repeated failed Okta sign-ins for {okta_actor(event)}"


def dedup(event):
    return okta_actor(event)


def alert_context(event):
    return okta_context(event)
