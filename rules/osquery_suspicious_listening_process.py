from caracal_osquery_helpers import added, column, host, osquery_context

# Programs that should not be network servers: shells, netcat-alikes and interpreters
# (bind shells and reverse-shell listeners).
SUSPICIOUS_NAMES = {
    "nc", "ncat", "netcat", "nc.openbsd", "nc.traditional", "socat",
    "bash", "sh", "dash", "zsh", "ksh",
    "python", "python2", "python3", "perl", "ruby", "php", "lua",
}
WRITABLE_DIRS = ("/tmp/", "/var/tmp/", "/dev/shm/")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _name(event):
    name = column(event, "name") or column(event, "path").rsplit("/", 1)[-1]
    return name.lower()


def rule(event):
    if not added(event) or not column(event, "port") or column(event, "port") == "0":
        return False
    if column(event, "address") in LOOPBACK:
        return False
    name = _name(event)
    # python3.11 and the like count as python.
    base = name.rstrip("0123456789.")
    return name in SUSPICIOUS_NAMES or base in SUSPICIOUS_NAMES or column(event, "path").startswith(WRITABLE_DIRS)


def title(event):
    return (
        f"{_name(event) or 'a process'} (pid {column(event, 'pid', '?')}) is listening on "
        f"{column(event, 'address')}:{column(event, 'port')} on {host(event)}"
    )


def dedup(event):
    return f"{host(event)}:{column(event, 'port')}"


def alert_context(event):
    return osquery_context(event)
