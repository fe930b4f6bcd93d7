"""Alerts of matched rules: the optional functions' results, checked and converted, with
production fallbacks when they fail.

`eval_rules` returns one list per outcome. Its fields are named here, once: the Rust
side (src/outcome.rs) reads `ALERT_FIELDS` and `ERROR_FIELDS` when the runtime is
installed and finds every field by name, so the order may change on this side alone.
"""

from collections.abc import Mapping

from .watchdog import describe

# An alert: the event and rule indexes, then what the optional functions gave (None:
# not defined or failed), then the errors of those that failed (None: no error).
ALERT_FIELDS = (
    "event", "rule", "title", "dedup", "severity", "alert_context", "description",
    "reference", "runbook", "destinations", "errors",
)
# An error of the rule function itself: no alert.
ERROR_FIELDS = ("event", "rule", "error")
# Optional functions a detection may define; each fills the alert field of its name.
OPTIONAL = ("title", "dedup", "alert_context", "severity", "description", "reference", "runbook", "destinations")
SEVERITIES = frozenset(("INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"))

POSITION = {name: i for i, name in enumerate(ALERT_FIELDS)}
assert set(OPTIONAL) <= set(ALERT_FIELDS) and len(ALERT_FIELDS) != len(ERROR_FIELDS)
# The batch loop builds entries as list literals (~7% faster per alert than filling a
# blank list through named positions), in the order of the tuples above: checked here.
assert ALERT_FIELDS[:4] == ("event", "rule", "title", "dedup") and ALERT_FIELDS[10:] == ("errors",)
assert ERROR_FIELDS == ("event", "rule", "error"), "engine.py builds error entries in this order"


def check_value(name, value):
    """Production checks of optional function results (tests also check JSON)."""
    if name == "alert_context":
        if not isinstance(value, Mapping):
            raise TypeError(f"alert_context() returned {type(value).__name__}, not a mapping")
    elif name == "severity":
        if str(value).upper() not in SEVERITIES and str(value).upper() != "DEFAULT":
            raise ValueError(f"severity() returned {value!r}, not one of INFO..CRITICAL or DEFAULT")
    elif name == "destinations":
        if value is not None and not isinstance(value, (list, tuple)):
            raise TypeError(f"destinations() returned {type(value).__name__}, not a list")


def _dedup_value(value):
    return str(value)[:1000]


def _context_value(value):
    check_value("alert_context", value)
    return value


def _severity_value(value):
    check_value("severity", value)
    value = str(value).upper()
    return None if value == "DEFAULT" else value


def _destinations_value(value):
    check_value("destinations", value)
    return None if value is None else [str(v) for v in value]


# How each optional function's result goes into the alert (checked, then converted;
# the others are `str()`ed).
_VALUES = {"dedup": _dedup_value, "alert_context": _context_value, "severity": _severity_value, "destinations": _destinations_value}


def optional_slots(optional_items):
    """(name, function, alert position, conversion) per optional function defined."""
    return tuple((name, fn, POSITION[name], _VALUES.get(name, str)) for name, fn in optional_items)


def alert_fields(det, event, ei, slot, n, append):
    """Appends a matched rule's alert, with production fallbacks for failing optional
    functions, and returns the updated call counter (`slot` is this thread's watchdog
    slot; every optional call gets the next number).

    The Rust side turns alert_context into JSON (other objects as `str()`, like
    `json.dumps(default=str)`). Title falls back to the rule id; dedup to the title,
    else `defaultDedupString:<RuleID>`.
    """
    # ALERT_FIELDS: event, rule, title, dedup, ..., errors.
    alert = [ei, det.index, None, None, None, None, None, None, None, None, None]
    for fname, fn, pos, convert in det.optional_slots:
        n += 1
        slot[0] = n
        try:
            alert[pos] = convert(fn(event))
        except BaseException as exc:  # noqa: BLE001 - a failing function falls back
            errors = alert[10]
            if errors is None:
                errors = alert[10] = []
            errors.append(f"{fname}: {describe(exc)}")
    title = alert[2]
    if title is None:
        alert[2] = det.id
    if alert[3] is None:
        alert[3] = title[:1000] if title else "defaultDedupString:" + det.id
    append(alert)
    return n
