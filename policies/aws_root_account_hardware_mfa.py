from caracal_policy_helpers import root_has_credentials


def policy(resource):
    report = resource.get("CredentialReport")
    if report is None:
        # Without the credential report row MFA state is unknown; a virtual device
        # registered for root still shows.
        return not resource.get("VirtualMFA")
    if not root_has_credentials(resource):
        return True
    return report.get("MfaActive") is True and not resource.get("VirtualMFA")
