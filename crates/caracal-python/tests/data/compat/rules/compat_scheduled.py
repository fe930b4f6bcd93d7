def rule(event):
    return int(event.get("failures", default=0)) > 10


def title(event):
    return f"{event.get('user')} failed {event.get('failures')} times"
