from caracal_policy_helpers import as_document, as_list


def _denies_everyone(statement):
    principal = statement.get("Principal")
    if principal != "*" and not (isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))):
        return False
    return any(a in ("*", "s3:*") for a in as_list(statement.get("Action")))


def _insecure_transport(condition):
    for operator, values in (condition or {}).items():
        values = {k.lower(): v for k, v in (values or {}).items()}
        if operator == "Bool" and str(values.get("aws:securetransport", "")).lower() == "false":
            return True
        if operator.startswith("NumericLessThan") and "s3:tlsversion" in values:
            return True
    return False


def policy(resource):
    document = as_document(resource.get("Policy"))
    return any(
        s.get("Effect") == "Deny" and _denies_everyone(s) and _insecure_transport(s.get("Condition"))
        for s in as_list(document.get("Statement"))
    )
