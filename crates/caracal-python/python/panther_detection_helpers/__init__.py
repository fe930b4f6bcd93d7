"""caracal's stand-in for panther_detection_helpers: only `caching` is provided."""

from . import caching

__all__ = ["caching"]
