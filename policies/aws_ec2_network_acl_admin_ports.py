ADMIN_PORTS = (22, 3389)
WORLD = ("0.0.0.0/0", "::/0")


def _covers(entry, port):
    if str(entry.get("Protocol")) == "-1":
        return True
    if str(entry.get("Protocol")) != "6":
        return False
    ports = entry.get("PortRange") or {}
    low, high = ports.get("From"), ports.get("To")
    return low is None or high is None or low <= port <= high


def _from_world(entry):
    return entry.get("CidrBlock") in WORLD or entry.get("Ipv6CidrBlock") in WORLD


def policy(resource):
    inbound = sorted(
        (e for e in resource.get("Entries") or [] if not e.get("Egress")),
        key=lambda e: e.get("RuleNumber") or 0,
    )
    for port in ADMIN_PORTS:
        for entry in inbound:
            if not _covers(entry, port):
                continue
            # The first entry that matches world traffic to this port decides.
            if _from_world(entry):
                if entry.get("RuleAction") == "allow":
                    return False
                break
    return True
