from caracal_osquery_helpers import added, column, host, osquery_context, query_name

CRON_DIRS = ("/etc/cron", "/var/spool/cron", "/etc/anacrontab", "/var/at/tabs")
WRITES = {"CREATED", "UPDATED", "MOVED_TO"}
# Commands that fetch or run code from elsewhere, typical of persistence via cron.
SUSPICIOUS = ("curl ", "wget ", "base64", "/dev/tcp/", "nc ", "ncat ", "bash -i", "python -c", "python3 -c", "/tmp/", "/dev/shm/")


def _crontab_row(event):
    return bool(column(event, "command")) and ("crontab" in query_name(event) or bool(column(event, "minute")))


def _fim_row(event):
    return column(event, "target_path").startswith(CRON_DIRS) and column(event, "action") in WRITES


def rule(event):
    return added(event) and (_crontab_row(event) or _fim_row(event))


def title(event):
    if _crontab_row(event):
        return f"New cron job on {host(event)}: {column(event, 'command')[:120]}"
    return f"Cron file {column(event, 'target_path')} written on {host(event)}"


def dedup(event):
    return f"{host(event)}:{column(event, 'path') or column(event, 'target_path')}"


def severity(event):
    command = column(event, "command").lower()
    return "HIGH" if any(marker in command for marker in SUSPICIOUS) else "DEFAULT"


def alert_context(event):
    return osquery_context(event)
