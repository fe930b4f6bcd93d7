from collections.abc import Sequence


def rule(event):
    names = event.get("names")
    # A Panther event's list is a read-only sequence, not a list.
    if isinstance(names, list) or not isinstance(names, Sequence):
        return False
    if names[0:1] != ("a",) or names.copy() + ["z"] != ["a", "b", "z"]:
        return False
    # deep_walk reads the raw event: a list it ends on is a plain list.
    walked = event.deep_walk("nested", "tags")
    return isinstance(walked, list) and names == ["a", "b"] and "b" in names


def title(event):
    return f"{event.get('names')} {len(event.get('names'))}"


def alert_context(event):
    return {"names": event.get("names"), "tags": event.deep_walk("nested", "tags")}
