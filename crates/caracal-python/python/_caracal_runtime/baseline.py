"""The plain-CPython reference of the benchmarks (benches/engine.rs): the engine's
compiled detections called in a Python loop on inputs built beforehand, with no
conversion and no time limit. What the engine's throughput is compared with."""

from .event import PantherEvent
from .lazy import loads


def prepare(engine, kind, text):
    """[(item, (Detection, ...))] for the JSON array `text`: what plain CPython would
    already hold (dicts, or events with their data model) and what applies to each."""
    items = loads(text)
    if kind == "policy":
        everywhere = tuple(engine.all_type_policies)
        return [(item, engine.policies_by_type.get(item.get("ResourceType"), ()) + everywhere) for item in items]
    return [
        (
            PantherEvent(item, engine.data_models.get(item.get("p_log_type"))),
            tuple(engine.by_log_type.get(item.get("p_log_type"), ())),
        )
        for item in items
    ]


def run(prepared):
    """Calls the detections on the prepared inputs; returns how many returned True."""
    hits = 0
    for item, dets in prepared:
        for det in dets:
            try:
                if det.main(item) is True:
                    hits += 1
                    if det.kind == "rule":
                        # A match runs the optional functions, as in production.
                        for fn in det.optional.values():
                            fn(item)
            except Exception:  # noqa: BLE001
                pass
    return hits
