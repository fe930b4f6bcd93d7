"""Posture lookups from detections: the latest snapshot of a resource and its compliance.

`resource_lookup` returns the snapshot a policy would receive for that resource. Packs that
import the public helper names (`panther_oss_helpers.resource_lookup`,
`s3_lookup_by_name`) get these implementations.
"""

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
