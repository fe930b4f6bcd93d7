"""`from panther_core.enriched_event import PantherEvent`: caracal's event class."""

from _caracal_runtime.event import PantherEvent

__all__ = ["PantherEvent"]
