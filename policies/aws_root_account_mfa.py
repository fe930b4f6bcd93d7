from caracal_policy_helpers import root_has_credentials


def policy(resource):
    report = resource.get("CredentialReport")
    if report is None or not root_has_credentials(resource):
        # No credential report row (unknown), or nothing to protect.
        return True
    return report.get("MfaActive") is True
