def policy(resource):
    report = resource.get("CredentialReport") or {}
    return not (report.get("AccessKey1Active") is True and report.get("AccessKey2Active") is True)
