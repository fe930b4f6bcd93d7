"""State across events, backed by caracal's key-value store (values expire)."""

import json as _json
import time as _time

from _caracal_runtime.backends import kv as _kv
from _caracal_runtime.lazy import json_text as _json_text


def _store():
    return _kv[0]


def _exp(epoch_seconds):
    return None if epoch_seconds is None else int(epoch_seconds)


def get_counter(key, force_ttl_check=False):
    text = _store().get(key)
    return int(text) if text is not None else 0


def increment_counter(key, val=1, epoch_seconds=None):
    return _store().increment(key, int(val), _exp(epoch_seconds))


def reset_counter(key):
    _store().delete(key)


def set_key_expiration(key, epoch_seconds):
    _store().set_expiry(key, int(epoch_seconds))


def get_string_set(key, force_ttl_check=False):
    text = _store().get(key)
    return set(_json.loads(text)) if text is not None else set()


def put_string_set(key, val, epoch_seconds=None):
    _store().put(key, _json.dumps(sorted(str(v) for v in val)), _exp(epoch_seconds))


def add_to_string_set(key, val, epoch_seconds=None):
    items = get_string_set(key)
    items.update([val] if isinstance(val, str) else val)
    put_string_set(key, items, epoch_seconds)
    return items


def remove_from_string_set(key, val):
    items = get_string_set(key)
    items.difference_update([val] if isinstance(val, str) else val)
    put_string_set(key, items)
    return items


def reset_string_set(key):
    _store().delete(key)


def get_dictionary(key, force_ttl_check=False):
    text = _store().get(key)
    return _json.loads(text) if text is not None else {}


def put_dictionary(key, val, epoch_seconds=None):
    _store().put(key, _json.dumps(val, default=_json_text), _exp(epoch_seconds))


def evaluate_threshold(key, threshold=10, expiry_seconds=3600):
    count = increment_counter(key, 1, int(_time.time()) + int(expiry_seconds))
    if count >= threshold:
        reset_counter(key)
        return True
    return False


def check_account_age(key):
    """True when a creation rule stored `key` (a new user or account id) with
    put_string_set / add_to_string_set and it has not expired: the account is new."""
    if isinstance(key, str) and key != "":
        return bool(get_string_set(key))
    return False
