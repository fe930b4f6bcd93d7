"""What the helper modules detections import are backed by: the key-value store of
`panther_detection_helpers.caching` and the posture lookup of `caracal_posture`.

The Rust side attaches its own (src/kv.rs `KvStore`, src/posture.rs `PostureLookup`);
the test runner swaps in a fresh `MemoryKv` for every test.
"""

import time


class MemoryKv:
    """The key-value store tests use: a dict with expiry, fresh for every test."""

    def __init__(self):
        self.items = {}

    def _live(self, key):
        item = self.items.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.time():
            del self.items[key]
            return None
        return item

    def get(self, key):
        """The value (text), or None when unset or expired."""
        item = self._live(key)
        return None if item is None else item[0]

    def put(self, key, value, expires_at):
        """Stores text `value`, expiring at epoch second `expires_at` (None: never)."""
        self.items[key] = (value, expires_at)

    def increment(self, key, by, expires_at):
        """Adds `by` to the counter at `key` and returns the total."""
        item = self._live(key)
        total = (int(item[0]) if item else 0) + by
        expiry = expires_at if expires_at is not None else (item[1] if item else None)
        self.items[key] = (str(total), expiry)
        return total

    def set_expiry(self, key, expires_at):
        """Moves the expiry of a live key."""
        item = self._live(key)
        if item is not None:
            self.items[key] = (item[0], expires_at)

    def delete(self, key):
        """Removes `key` (nothing when absent)."""
        self.items.pop(key, None)


# One element each, so that modules holding the list see a replacement.
kv = [MemoryKv()]
posture = [None]


def set_kv(store):
    """Backs `panther_detection_helpers.caching` with `store` (get/put/increment/...)."""
    kv[0] = store


def set_posture(lookup):
    """Backs `caracal_posture` with `lookup` (resource(id) -> JSON text or None,
    resource_at(id, iso time) -> JSON text or None, compliance(id) -> [(policy id,
    status)]); None detaches it."""
    posture[0] = lookup
