"""`from panther_core.data_model import DataModel`: caracal's data model (standard field
names of one log type: `DataModel(id, mappings, module)`)."""

from _caracal_runtime.event import DataModel

__all__ = ["DataModel"]
