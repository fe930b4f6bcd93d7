"""`from panther_core.exceptions import PantherError`."""

from _caracal_runtime.event import PantherError

__all__ = ["PantherError"]
