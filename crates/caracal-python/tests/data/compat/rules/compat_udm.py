def rule(event):
    return bool(event.udm("source_ip")) and event.udm("actor_user") != "<unknown>"


def title(event):
    return f"{event.udm('actor_user')} from {event.udm('source_ip')} via {event.udm_path('user_agent')}"


def alert_context(event):
    return {
        "ip_path": event.udm_path("source_ip"),
        "resource_path": event.udm_path("first_resource"),
        "resource": event.udm("first_resource"),
        "actor_method": event.udm_path("actor_user"),
    }


def severity(event):
    return "HIGH" if event.udm_path("first_resource") == "resources.[0].ARN" else "LOW"
