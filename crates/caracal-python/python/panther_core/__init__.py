"""caracal's stand-in for panther_core: PantherEvent is caracal's event class.

The submodules public detections and helpers import are here too: `immutable`
(ImmutableCaseInsensitiveDict, ImmutableList, json_encoder), `enriched_event`
(PantherEvent), `exceptions` (PantherError) and `data_model` (DataModel)."""

from _caracal_runtime.event import PantherError, PantherEvent
from _caracal_runtime.lazy import ImmutableDict

from . import data_model, enriched_event, exceptions, immutable

__all__ = [
    "ImmutableDict", "PantherError", "PantherEvent", "data_model", "enriched_event",
    "exceptions", "immutable",
]
