from caracal_net_helpers import is_internal, is_public

# Stratum ports that public mining pools commonly listen on.
MINING_PORTS = {3333, 3334, 3335, 3336, 3357, 4444, 5555, 6666, 7777, 14433, 14444, 45560, 45700}


def _port(event):
    try:
        return int(event.get("dstPort"))
    except (TypeError, ValueError):
        return None


def rule(event):
    if event.get("action") != "ACCEPT" or event.get("protocol") not in (6, None):
        return False
    if _port(event) not in MINING_PORTS:
        return False
    return is_internal(event.get("srcAddr")) and is_public(event.get("dstAddr"))


def title(event):
    return (
        f"{event.get('srcAddr')} connected to {event.get('dstAddr')}:{event.get('dstPort')}, "
        "a port used by crypto-mining pools"
    )


def dedup(event):
    return str(event.get("srcAddr"))


def alert_context(event):
    return {
        "account": event.get("account"),
        "interface_id": event.get("interfaceId"),
        "instance_id": event.get("instanceId"),
        "src_addr": event.get("srcAddr"),
        "dst_addr": event.get("dstAddr"),
        "dst_port": event.get("dstPort"),
        "bytes": event.get("bytes"),
    }
