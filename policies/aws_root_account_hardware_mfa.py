from caracal_policy_helpers import root_has_credentials


def policy(resource):
    if not root_has_credentials(resource):
        return True
    report = resource.get("CredentialReport") or {}
    return report.get("MfaActive") is True and not resource.get("VirtualMFA")
