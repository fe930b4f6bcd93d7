"""caracal's stand-in for panther_core: PantherEvent is caracal's event class."""

from _caracal_runtime.event import PantherError, PantherEvent
from _caracal_runtime.lazy import ImmutableDict

__all__ = ["ImmutableDict", "PantherError", "PantherEvent"]
