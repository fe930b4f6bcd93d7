MODERN = ("TLS13", "TLS-1-2", "FS-1-2")
OLD_PROTOCOLS = {"TLSv1", "TLSv1.1", "SSLv3"}


def _modern(name, details):
    detail = details.get(name) if name else None
    if detail and detail.get("SslProtocols"):
        return not OLD_PROTOCOLS & set(detail["SslProtocols"])
    return bool(name) and any(token in name for token in MODERN)


def policy(resource):
    details = resource.get("SSLPolicies") or {}
    return all(
        _modern(l.get("SslPolicy"), details)
        for l in resource.get("Listeners") or []
        if l.get("Protocol") in ("HTTPS", "TLS")
    )
