def policy(resource):
    report = resource.get("CredentialReport") or {}
    if not report.get("PasswordEnabled"):
        return True  # no console password: MFA does not apply
    return bool(report.get("MfaActive"))


def title(resource):
    return f"IAM user {resource.get('Name')} can sign in to the console without MFA"
