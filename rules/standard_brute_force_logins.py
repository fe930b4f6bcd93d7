from caracal_event_types import FAILED_LOGIN


def rule(event):
    return event.udm("event_type") == FAILED_LOGIN


def title(event):
    return f"Repeated failed {event.get('p_log_type')} logins for {event.udm('actor_user')}"


def dedup(event):
    return f"{event.get('p_log_type')}:{event.udm('actor_user')}"


def alert_context(event):
    return {"actor_user": event.udm("actor_user"), "source_ip": event.udm("source_ip")}
