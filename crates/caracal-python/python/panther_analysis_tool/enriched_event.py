"""`from panther_analysis_tool.enriched_event import PantherEvent` (public data models
use it for type hints and `isinstance`): caracal's event class."""

from _caracal_runtime.event import PantherEvent

__all__ = ["PantherEvent"]
