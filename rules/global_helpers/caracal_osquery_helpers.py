"""Helpers shared by caracal's osquery rules (importable as caracal_osquery_helpers).

osquery result logs carry one row in `columns` (differential) with `action` added/removed;
column values are strings."""


def column(event, name, default=""):
    value = event.deep_get("columns", name)
    return default if value is None else str(value)


def added(event):
    return event.get("action") == "added"


def host(event):
    return event.get("hostIdentifier") or event.deep_get("decorations", "hostname") or "<unknown host>"


def query_name(event):
    return str(event.get("name") or "")


def osquery_context(event):
    columns = event.get("columns")
    return {
        "host": host(event),
        "query": query_name(event),
        "action": event.get("action"),
        "columns": columns.to_dict() if hasattr(columns, "to_dict") else columns,
        "host_uuid": event.deep_get("decorations", "host_uuid"),
    }
