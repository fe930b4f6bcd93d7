def _redirects_to_https(listener):
    actions = listener.get("DefaultActions") or []
    return bool(actions) and all(
        a.get("Type") == "redirect" and (a.get("RedirectConfig") or {}).get("Protocol") == "HTTPS" for a in actions
    )


def policy(resource):
    if resource.get("Type") not in (None, "application"):
        return True
    return all(
        _redirects_to_https(l) for l in resource.get("Listeners") or [] if l.get("Protocol") == "HTTP"
    )
