"""Posture lookups from detections: the latest snapshot of a resource and its compliance.

`resource_lookup` returns the snapshot a policy would receive for that resource. Packs that
import the public helper names (`panther_oss_helpers.resource_lookup`,
`s3_lookup_by_name`) get these implementations.
"""

import datetime as _datetime

from _caracal_runtime.backends import posture as _posture
from _caracal_runtime.lazy import loads as _loads


class BadLookup(Exception):
    """The resource is not in the store (or no store is attached)."""


class PantherBadInput(Exception):
    """A lookup was called with unusable input."""


def _backend():
    if _posture[0] is None:
        raise BadLookup("no resource store is attached to this engine")
    return _posture[0]


def resource_lookup(resource_id):
    """The latest snapshot of `resource_id` (an immutable mapping); BadLookup if unknown."""
    if not resource_id:
        raise PantherBadInput("resourceId cannot be blank")
    text = _backend().resource(str(resource_id))
    if text is None:
        raise BadLookup(str(resource_id) + " not found")
    return _loads(text)


def resource_at(resource_id, when):
    """The snapshot of `resource_id` in force at `when` (a datetime, naive meaning UTC;
    an ISO 8601 or `p_event_time` string; or epoch seconds), from the resource's history:
    the latest change observed at or before `when`. BadLookup when the store did not know
    the resource then (not scanned yet, or deleted)."""
    if not resource_id:
        raise PantherBadInput("resourceId cannot be blank")
    text = _backend().resource_at(str(resource_id), _instant(when))
    if text is None:
        raise BadLookup("%s not known at %s" % (resource_id, when))
    return _loads(text)


def _instant(when):
    if isinstance(when, _datetime.datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=_datetime.timezone.utc)
        return when.isoformat()
    if isinstance(when, (int, float)) and not isinstance(when, bool):
        return _datetime.datetime.fromtimestamp(when, _datetime.timezone.utc).isoformat()
    if isinstance(when, str) and when:
        return when
    raise PantherBadInput("resource_at needs a time, got %r" % (when,))


def get_s3_arn_by_name(name):
    """The ARN of the S3 bucket `name`."""
    if not name:
        raise PantherBadInput("s3 name cannot be blank")
    return "arn:aws:s3:::" + name


def s3_lookup_by_name(name):
    """The latest snapshot of the S3 bucket `name`."""
    return resource_lookup(get_s3_arn_by_name(name))


def compliance_status(resource_id, policy_id=None):
    """The stored verdicts on `resource_id`: {policy id: "PASS" | "FAIL" | "ERROR"}, or
    the one verdict of `policy_id` (None when that policy never evaluated it)."""
    verdicts = dict(_backend().compliance(str(resource_id)))
    return verdicts.get(policy_id) if policy_id is not None else verdicts
