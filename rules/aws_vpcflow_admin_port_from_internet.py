from caracal_net_helpers import is_internal, is_public

ADMIN_PORTS = {22: "SSH", 3389: "RDP", 5900: "VNC", 5985: "WinRM", 5986: "WinRM"}
# Hosts meant to take admin traffic from the internet (bastions): their private addresses.
EXPECTED_TARGETS = set()


def _port(event):
    try:
        return int(event.get("dstPort"))
    except (TypeError, ValueError):
        return None


def rule(event):
    if event.get("action") != "ACCEPT" or _port(event) not in ADMIN_PORTS:
        return False
    if event.get("protocol") not in (6, 17, None):
        return False
    if event.get("flowDirection") == "egress":
        return False
    if event.get("dstAddr") in EXPECTED_TARGETS:
        return False
    return is_public(event.get("srcAddr")) and is_internal(event.get("dstAddr"))


def title(event):
    service = ADMIN_PORTS.get(_port(event), "admin")
    return (
        f"{service} from the internet ({event.get('srcAddr')}) accepted by "
        f"{event.get('dstAddr')}:{event.get('dstPort')}"
    )


def dedup(event):
    return f"{event.get('dstAddr')}:{event.get('dstPort')}"


def alert_context(event):
    return {
        "account": event.get("account"),
        "interface_id": event.get("interfaceId"),
        "vpc_id": event.get("vpcId"),
        "instance_id": event.get("instanceId"),
        "src_addr": event.get("srcAddr"),
        "dst_addr": event.get("dstAddr"),
        "dst_port": event.get("dstPort"),
        "packets": event.get("packets"),
        "bytes": event.get("bytes"),
    }
