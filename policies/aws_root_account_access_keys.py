def policy(resource):
    report = resource.get("CredentialReport") or {}
    return not any(report.get(f"AccessKey{n}Active") is True for n in (1, 2))
