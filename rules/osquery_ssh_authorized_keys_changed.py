from caracal_osquery_helpers import added, column, host, osquery_context, query_name

# file_events actions that write a file.
WRITES = {"CREATED", "UPDATED", "MOVED_TO", "ATTRIBUTES_MODIFIED"}


def _path(event):
    return column(event, "key_file") or column(event, "target_path") or column(event, "path")


def rule(event):
    if not added(event):
        return False
    path = _path(event)
    if "authorized_keys" not in path and "authorized_keys" not in query_name(event):
        return False
    # A file integrity row has its own action; rows of the authorized_keys table do not.
    fim_action = column(event, "action")
    return not fim_action or fim_action in WRITES


def _user(event):
    uid = column(event, "uid")
    return column(event, "username") or (f"uid {uid}" if uid else _path(event))


def title(event):
    return f"SSH authorized key added for {_user(event)} on {host(event)}"


def dedup(event):
    return f"{host(event)}:{_path(event)}"


def alert_context(event):
    context = osquery_context(event)
    context["key_file"] = _path(event)
    context["key_comment"] = column(event, "comment")
    return context
