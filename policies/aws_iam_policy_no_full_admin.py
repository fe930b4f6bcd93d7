from caracal_policy_helpers import as_document, as_list


def grants_everything(statement):
    return (
        statement.get("Effect") == "Allow"
        and "*" in as_list(statement.get("Action"))
        and "*" in as_list(statement.get("Resource"))
    )


def policy(resource):
    if resource.get("Scope") == "AWS" or not resource.get("AttachmentCount"):
        return True
    document = as_document(resource.get("PolicyDocument"))
    return not any(grants_everything(s) for s in as_list(document.get("Statement")))
