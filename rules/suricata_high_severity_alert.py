def rule(event):
    return event.get("event_type") == "alert" and event.deep_get("alert", "severity") == 1


def title(event):
    signature = event.deep_get("alert", "signature", default="<unknown signature>")
    return f"Suricata: {signature} ({event.get('src_ip')} -> {event.get('dest_ip')}:{event.get('dest_port')})"


def dedup(event):
    return f"{event.deep_get('alert', 'signature_id')}:{event.get('src_ip')}:{event.get('dest_ip')}"


def severity(event):
    # The sensor already dropped the traffic (IPS mode): still worth a look, less urgent.
    return "MEDIUM" if event.deep_get("alert", "action") == "blocked" else "DEFAULT"


def alert_context(event):
    return {
        "signature": event.deep_get("alert", "signature"),
        "signature_id": event.deep_get("alert", "signature_id"),
        "category": event.deep_get("alert", "category"),
        "action": event.deep_get("alert", "action"),
        "src_ip": event.get("src_ip"),
        "src_port": event.get("src_port"),
        "dest_ip": event.get("dest_ip"),
        "dest_port": event.get("dest_port"),
        "proto": event.get("proto"),
        "app_proto": event.get("app_proto"),
        "flow_id": event.get("flow_id"),
        "sensor_interface": event.get("in_iface"),
    }
